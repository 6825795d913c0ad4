/// The landslides of a pixel inventory: 8-connected groups of landslide pixels (label 1),
/// as the seed's Po3 table takes one point from each and reports count them. Labels are
/// row-major (index = row · width + column); anything but 1 (0, NaN) is background.
///
/// Labelled in one raster-order pass with union–find (no recursion, no flood-fill stack):
/// only the previous and current rows keep their provisional labels, so memory is
/// O(width + landslide pixels), not O(pixels), on a 21 M-pixel grid.
public struct LandslideComponents: Sendable, Equatable {
  /// Pixels per landslide, in the order of each landslide's first pixel (row-major).
  public let pixelCounts: [Int]
  /// Per landslide, its pixel nearest its centroid (Euclidean; ties: the lowest index).
  /// Always a pixel of the landslide, unlike the centroid of a crescent.
  public let centres: [Int]

  /// The number of landslides.
  public var count: Int { pixelCounts.count }

  public init(labels: [Float], width: Int, height: Int) {
    precondition(
      width >= 0 && height >= 0 && labels.count == width * height,
      "\(labels.count) labels for a \(width) × \(height) grid")
    let landslidePixels = labels.reduce(into: 0) { count, label in
      if label == 1 { count += 1 }
    }
    // Per landslide pixel (in raster order): its index and provisional label.
    var pixelIndex = [Int](repeating: 0, count: landslidePixels)
    var pixelLabel = [Int32](repeating: 0, count: landslidePixels)
    // A pixel opens at most one provisional label.
    var parent = [Int32](repeating: 0, count: landslidePixels)
    var labelCount = 0
    labels.withUnsafeBufferPointer { labels in
      pixelIndex.withUnsafeMutableBufferPointer { pixelIndex in
        pixelLabel.withUnsafeMutableBufferPointer { pixelLabel in
          parent.withUnsafeMutableBufferPointer { parent in
            labelCount = Self.labelRows(
              labels, width: width, height: height, parent: parent, pixelIndex: pixelIndex,
              pixelLabel: pixelLabel)
          }
        }
      }
    }

    // Roots are the smallest label of their set, and labels open in raster order, so
    // numbering roots in label order numbers landslides by their first pixel.
    var component = [Int32](repeating: 0, count: labelCount)
    var components = 0
    parent.withUnsafeMutableBufferPointer { parent in
      for label in 0..<labelCount {
        let root = Int(Self.root(Int32(label), parent))
        if root == label {
          component[label] = Int32(components)
          components += 1
        } else {
          component[label] = component[root]
        }
      }
      for pixel in 0..<landslidePixels {
        pixelLabel[pixel] = component[Int(Self.root(pixelLabel[pixel], parent))]
      }
    }

    var counts = [Int](repeating: 0, count: components)
    var rowSums = [Int](repeating: 0, count: components)
    var columnSums = [Int](repeating: 0, count: components)
    for pixel in 0..<landslidePixels {
      let landslide = Int(pixelLabel[pixel])
      counts[landslide] += 1
      rowSums[landslide] += pixelIndex[pixel] / width
      columnSums[landslide] += pixelIndex[pixel] % width
    }
    // Distances to the centroid scaled by the pixel count n, (n·row − Σrow)² + …, are
    // exact integers: ties resolve by index, not by rounding. Int128 because n·row
    // reaches 10¹¹ on the paper's grid.
    var centres = [Int](repeating: -1, count: components)
    var nearest = [Int128](repeating: .max, count: components)
    for pixel in 0..<landslidePixels {
      let landslide = Int(pixelLabel[pixel])
      let n = counts[landslide]
      let row = Int128(n * (pixelIndex[pixel] / width) - rowSums[landslide])
      let column = Int128(n * (pixelIndex[pixel] % width) - columnSums[landslide])
      let distance = row * row + column * column
      if distance < nearest[landslide] {
        nearest[landslide] = distance
        centres[landslide] = pixelIndex[pixel]
      }
    }
    self.pixelCounts = counts
    self.centres = centres
  }

  /// The raster-order pass: each landslide pixel joins the labels of its four neighbours
  /// already visited (left, up-left, up, up-right) or opens a new one. Returns the number
  /// of provisional labels.
  private static func labelRows(
    _ labels: UnsafeBufferPointer<Float>, width: Int, height: Int,
    parent: UnsafeMutableBufferPointer<Int32>, pixelIndex: UnsafeMutableBufferPointer<Int>,
    pixelLabel: UnsafeMutableBufferPointer<Int32>
  ) -> Int {
    // Two rows of provisional labels (−1: background), swapped each row.
    var previous = [Int32](repeating: -1, count: width)
    var current = [Int32](repeating: -1, count: width)
    var labelCount = 0
    var pixel = 0
    for row in 0..<height {
      swap(&previous, &current)
      previous.withUnsafeBufferPointer { previous in
        current.withUnsafeMutableBufferPointer { current in
          for column in 0..<width {
            let index = row * width + column
            guard labels[index] == 1 else {
              current[column] = -1
              continue
            }
            var label: Int32 = -1
            if column > 0 {
              label = join(label, current[column - 1], parent)
              label = join(label, previous[column - 1], parent)
            }
            label = join(label, previous[column], parent)
            if column + 1 < width { label = join(label, previous[column + 1], parent) }
            if label < 0 {
              label = Int32(labelCount)
              parent[labelCount] = label
              labelCount += 1
            }
            current[column] = label
            pixelIndex[pixel] = index
            pixelLabel[pixel] = label
            pixel += 1
          }
        }
      }
    }
    return labelCount
  }

  /// `label` after meeting a neighbour's label: the neighbour's when there is none yet,
  /// else `label` with the two sets united (the larger root under the smaller).
  private static func join(
    _ label: Int32, _ neighbour: Int32, _ parent: UnsafeMutableBufferPointer<Int32>
  ) -> Int32 {
    guard neighbour >= 0 else { return label }
    guard label >= 0 else { return neighbour }
    let a = root(label, parent)
    let b = root(neighbour, parent)
    if a < b { parent[Int(b)] = a } else if b < a { parent[Int(a)] = b }
    return label
  }

  /// The root of `label`'s set, halving the path on the way.
  private static func root(_ label: Int32, _ parent: UnsafeMutableBufferPointer<Int32>) -> Int32 {
    var label = label
    while parent[Int(label)] != label {
      parent[Int(label)] = parent[Int(parent[Int(label)])]
      label = parent[Int(label)]
    }
    return label
  }
}
