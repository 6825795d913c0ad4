/// Named colours for class maps: a cell holding the value k (an integer stored as Float)
/// belongs to `categories[k]`.
public struct CategoricalPalette: Sendable {
  public struct Category: Sendable {
    public var name: String
    public var colour: Colour

    public init(name: String, colour: Colour) {
      self.name = name
      self.colour = colour
    }
  }

  public var categories: [Category]

  public init(categories: [Category]) {
    self.categories = categories
  }

  /// The category of a cell value, or nil when the value is not one of the class codes.
  public func category(of value: Float) -> Category? {
    guard value >= 0, value < Float(categories.count), value == value.rounded(.down) else {
      return nil
    }
    return categories[Int(value)]
  }

  /// The confusion map, in `ConfusionClass` order. Hits and false alarms are warm (red,
  /// orange) and misses blue, from the colour-blind-safe Okabe–Ito set; true negatives, most
  /// of any map, are a pale green that recedes but stays distinct from no-data grey.
  public static let confusion = CategoricalPalette(categories: [
    Category(name: "TP", colour: Colour(rgb: 0xD55E00)),
    Category(name: "FP", colour: Colour(rgb: 0xE69F00)),
    Category(name: "FN", colour: Colour(rgb: 0x0072B2)),
    Category(name: "TN", colour: Colour(rgb: 0xE5F5E0)),
  ])
}
