/// A tensor shape of up to five dimensions, stored inline so that making one never
/// touches the heap (shapes are created on every op of every step).
public struct Shape: Equatable, Hashable, Sendable, CustomStringConvertible {
  public static let maxRank = 5
  private var dims: (Int, Int, Int, Int, Int) = (1, 1, 1, 1, 1)
  public private(set) var rank: Int

  /// A scalar (rank 0, one element).
  public init() { rank = 0 }
  public init(_ d0: Int) {
    rank = 1
    dims.0 = d0
  }
  public init(_ d0: Int, _ d1: Int) {
    rank = 2
    dims.0 = d0
    dims.1 = d1
  }
  public init(_ d0: Int, _ d1: Int, _ d2: Int) {
    rank = 3
    dims = (d0, d1, d2, 1, 1)
  }
  public init(_ d0: Int, _ d1: Int, _ d2: Int, _ d3: Int) {
    rank = 4
    dims = (d0, d1, d2, d3, 1)
  }
  public init(_ d0: Int, _ d1: Int, _ d2: Int, _ d3: Int, _ d4: Int) {
    rank = 5
    dims = (d0, d1, d2, d3, d4)
  }
  /// Convenience for set-up code; allocates the array it is given, so not for hot paths.
  public init(_ dimensions: [Int]) {
    precondition(dimensions.count <= Shape.maxRank, "rank \(dimensions.count) > \(Shape.maxRank)")
    rank = dimensions.count
    for (axis, size) in dimensions.enumerated() { self[axis] = size }
  }

  public subscript(axis: Int) -> Int {
    get {
      precondition(axis >= 0 && axis < rank, "axis \(axis) out of range for rank \(rank)")
      switch axis {
      case 0: return dims.0
      case 1: return dims.1
      case 2: return dims.2
      case 3: return dims.3
      default: return dims.4
      }
    }
    set {
      precondition(axis >= 0 && axis < Shape.maxRank, "axis \(axis) out of range")
      switch axis {
      case 0: dims.0 = newValue
      case 1: dims.1 = newValue
      case 2: dims.2 = newValue
      case 3: dims.3 = newValue
      default: dims.4 = newValue
      }
    }
  }

  /// Number of elements.
  public var count: Int {
    var product = 1
    for axis in 0..<rank { product *= self[axis] }
    return product
  }

  /// The last dimension (channels in NHWC, features in [B, T, C]); 1 for a scalar.
  public var last: Int { rank == 0 ? 1 : self[rank - 1] }

  /// Product of the dimensions before `axis`.
  public func count(before axis: Int) -> Int {
    var product = 1
    for index in 0..<axis { product *= self[index] }
    return product
  }

  /// Product of the dimensions after `axis`.
  public func count(after axis: Int) -> Int {
    var product = 1
    for index in (axis + 1)..<max(rank, axis + 1) { product *= self[index] }
    return product
  }

  /// The same shape with `axis` set to `size`.
  public func replacing(_ axis: Int, with size: Int) -> Shape {
    var shape = self
    shape[axis] = size
    return shape
  }

  /// The same shape without `axis`.
  public func removing(_ axis: Int) -> Shape {
    var shape = Shape()
    for index in 0..<rank where index != axis { shape.append(self[index]) }
    return shape
  }

  mutating func append(_ size: Int) {
    rank += 1
    self[rank - 1] = size
  }

  public var dimensions: [Int] { (0..<rank).map { self[$0] } }

  public var description: String {
    "[" + dimensions.map(String.init).joined(separator: ", ") + "]"
  }

  public static func == (lhs: Shape, rhs: Shape) -> Bool {
    guard lhs.rank == rhs.rank else { return false }
    for axis in 0..<lhs.rank where lhs[axis] != rhs[axis] { return false }
    return true
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(rank)
    for axis in 0..<rank { hasher.combine(self[axis]) }
  }
}
