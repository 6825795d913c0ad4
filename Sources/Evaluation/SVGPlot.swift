import Foundation

/// A plot in plain SVG text: a square data area with a title, gridlines, ticks, tick
/// labels and axis titles, onto which the figures draw in data coordinates.
struct SVGPlot {
  /// One axis: its title, its range and the spacing of its ticks.
  struct Axis {
    var title: String
    var lower: Double
    var upper: Double
    var step: Double

    /// An axis covering `range` with about five ticks at multiples of 1, 2 or 5 × 10ⁿ,
    /// widened to whole steps.
    static func covering(_ range: ClosedRange<Double>, title: String) -> Axis {
      let span = range.upperBound > range.lowerBound ? range.upperBound - range.lowerBound : 1
      let raw = span / 5
      let magnitude = pow(10, (log10(raw)).rounded(.down))
      let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw * 0.8 } ?? 10 * magnitude
      let lower = (range.lowerBound / step).rounded(.down) * step
      let upper = max(lower + step, (range.upperBound / step).rounded(.up) * step)
      return Axis(title: title, lower: lower, upper: upper, step: step)
    }

    var ticks: [Double] {
      let count = Int(((upper - lower) / step).rounded())
      return (0...count).map { lower + Double($0) * step }
    }

    /// A tick's value with as many decimals as the step needs.
    func label(_ value: Double) -> String {
      let decimals = max(0, -Int((log10(step) + 1e-9).rounded(.down)))
      return String(format: "%.\(decimals)f", value)
    }
  }

  static let width = 560.0
  static let height = 572.0
  /// The data area: 464 px square, with room on the left and below for the labels.
  static let area = (left: 76.0, top: 44.0, size: 464.0)

  let title: String
  let x: Axis
  let y: Axis
  private var elements: [String] = []

  init(title: String, x: Axis, y: Axis) {
    self.title = title
    self.x = x
    self.y = y
  }

  /// The horizontal pixel of data value `value`.
  func px(_ value: Double) -> Double {
    Self.area.left + (value - x.lower) / (x.upper - x.lower) * Self.area.size
  }

  /// The vertical pixel of data value `value` (up is larger).
  func py(_ value: Double) -> Double {
    Self.area.top + (y.upper - value) / (y.upper - y.lower) * Self.area.size
  }

  mutating func append(_ element: String) { elements.append(element) }

  /// The whole document: frame and axes first, the figure's elements over them.
  var document: String {
    let (left, top, size) = Self.area
    let bottom = top + size
    let (width, height) = (Self.number(Self.width), Self.number(Self.height))
    var lines = [
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" "
        + "viewBox=\"0 0 \(width) \(height)\" font-family=\"sans-serif\" font-size=\"13\">",
      Self.element("rect", ["width": "100%", "height": "100%", "fill": "white"]),
      Self.text(title, x: left + size / 2, y: 26, ["text-anchor": "middle", "font-size": "15"]),
    ]
    for tick in x.ticks {
      lines.append(Self.line(px(tick), top, px(tick), bottom + 5, ["stroke": "#e4e4e4"]))
      lines.append(Self.text(x.label(tick), x: px(tick), y: bottom + 20, ["text-anchor": "middle"]))
    }
    for tick in y.ticks {
      lines.append(Self.line(left - 5, py(tick), left + size, py(tick), ["stroke": "#e4e4e4"]))
      lines.append(
        Self.text(
          y.label(tick), x: left - 9, y: py(tick),
          ["text-anchor": "end", "dominant-baseline": "middle"]))
    }
    lines.append(
      Self.element(
        "rect",
        [
          "x": Self.number(left), "y": Self.number(top), "width": Self.number(size),
          "height": Self.number(size), "fill": "none", "stroke": "#000",
        ]))
    lines.append(Self.text(x.title, x: left + size / 2, y: bottom + 46, ["text-anchor": "middle"]))
    let middle = Self.number(top + size / 2)
    lines.append(
      Self.text(
        y.title, x: 22, y: top + size / 2,
        ["text-anchor": "middle", "transform": "rotate(-90 22 \(middle))"]))
    return (lines + elements + ["</svg>"]).joined(separator: "\n") + "\n"
  }

  /// `<name a="v" …/>`, values escaped.
  static func element(_ name: String, _ attributes: KeyValuePairs<String, String>) -> String {
    "<\(name)\(attributeText(attributes))/>"
  }

  /// A line between two points in pixels.
  static func line(
    _ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double,
    _ style: KeyValuePairs<String, String>
  ) -> String {
    "<line x1=\"\(number(x1))\" y1=\"\(number(y1))\" x2=\"\(number(x2))\" y2=\"\(number(y2))\""
      + "\(attributeText(style))/>"
  }

  /// `content` at a point in pixels.
  static func text(
    _ content: String, x: Double, y: Double, _ style: KeyValuePairs<String, String> = [:]
  ) -> String {
    "<text x=\"\(number(x))\" y=\"\(number(y))\"\(attributeText(style))>\(escaped(content))</text>"
  }

  private static func attributeText(_ attributes: KeyValuePairs<String, String>) -> String {
    attributes.map { " \($0.key)=\"\(escaped($0.value))\"" }.joined()
  }

  /// A coordinate to 0.1 px: enough for the eye, and short.
  static func number(_ value: Double) -> String {
    let rounded = (value * 10).rounded() / 10
    return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
  }

  /// `text` with XML's special characters escaped.
  static func escaped(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
  }

  /// Colours for successive series (Tableau 10), cycled.
  static func colour(_ index: Int) -> String {
    let palette = [
      "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
      "#bcbd22", "#17becf",
    ]
    return palette[index % palette.count]
  }
}
