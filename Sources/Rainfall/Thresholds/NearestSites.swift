/// The k nearest sites of a point on the sphere: a k-d tree over the sites' unit vectors
/// (see `GeographicPoint.unitVector`), so that a search visits a few dozen sites instead of
/// all of them. Ties go to the lower site index, so the neighbours never depend on the
/// tree's layout.
struct NearestSites: Sendable {
  /// Per site, in the caller's order.
  let vectors: [SIMD3<Double>]
  /// Site indices in tree order: the middle of each range is the node that splits it.
  private let order: [Int]
  /// The axis (0, 1, 2) each node splits on, by position in `order`.
  private let axes: [Int]

  init(_ vectors: [SIMD3<Double>]) {
    self.vectors = vectors
    var order = Array(vectors.indices)
    var axes = [Int](repeating: 0, count: vectors.count)
    // Each range is split at its median along the axis it spreads most on.
    var ranges = [(0, vectors.count)]
    while let (low, high) = ranges.popLast() {
      guard high - low > 1 else { continue }
      var lowest = SIMD3<Double>(repeating: .infinity)
      var highest = SIMD3<Double>(repeating: -.infinity)
      for site in order[low..<high] {
        lowest = pointwiseMin(lowest, vectors[site])
        highest = pointwiseMax(highest, vectors[site])
      }
      let spread = highest - lowest
      let axis = spread.x >= spread.y && spread.x >= spread.z ? 0 : (spread.y >= spread.z ? 1 : 2)
      order[low..<high].sort { (vectors[$0][axis], $0) < (vectors[$1][axis], $1) }
      let middle = (low + high) / 2
      axes[middle] = axis
      ranges += [(low, middle), (middle + 1, high)]
    }
    self.order = order
    self.axes = axes
  }

  /// Writes the `k` (at most all) nearest sites to `point` into `sites`, nearest first, and
  /// their squared chord distances into `squaredChords`; both hold `k` values.
  func nearest(
    to point: SIMD3<Double>, k: Int, sites: UnsafeMutablePointer<Int>,
    squaredChords: UnsafeMutablePointer<Double>
  ) {
    var heap = Heap(sites: sites, distances: squaredChords, capacity: k)
    order.withUnsafeBufferPointer { order in
      axes.withUnsafeBufferPointer { axes in
        vectors.withUnsafeBufferPointer { vectors in
          search(0, order.count, point, &heap, order, axes, vectors)
        }
      }
    }
    heap.sortAscending()
  }

  private func search(
    _ low: Int, _ high: Int, _ point: SIMD3<Double>, _ heap: inout Heap,
    _ order: UnsafeBufferPointer<Int>, _ axes: UnsafeBufferPointer<Int>,
    _ vectors: UnsafeBufferPointer<SIMD3<Double>>
  ) {
    guard low < high else { return }
    let middle = (low + high) / 2
    let site = order[middle]
    let offset = point - vectors[site]
    heap.offer(site, (offset * offset).sum())
    guard high - low > 1 else { return }
    let along = offset[axes[middle]]
    let (near, far) =
      along < 0 ? ((low, middle), (middle + 1, high)) : ((middle + 1, high), (low, middle))
    search(near.0, near.1, point, &heap, order, axes, vectors)
    // Sites beyond the splitting plane are at least |along| away; at exactly that distance
    // one may still win a tie by its lower index.
    if !heap.isFull || along * along <= heap.worst {
      search(far.0, far.1, point, &heap, order, axes, vectors)
    }
  }
}

/// A max-heap of at most `capacity` (site, distance) pairs in the caller's buffers, worst
/// (farthest, then highest index) on top.
private struct Heap {
  let sites: UnsafeMutablePointer<Int>
  let distances: UnsafeMutablePointer<Double>
  let capacity: Int
  var size = 0

  init(sites: UnsafeMutablePointer<Int>, distances: UnsafeMutablePointer<Double>, capacity: Int) {
    self.sites = sites
    self.distances = distances
    self.capacity = capacity
  }

  var isFull: Bool { size == capacity }
  var worst: Double { distances[0] }

  @inline(__always)
  private func after(_ a: Int, _ b: Int) -> Bool {
    distances[a] > distances[b] || (distances[a] == distances[b] && sites[a] > sites[b])
  }

  private func swap(_ a: Int, _ b: Int) {
    (sites[a], sites[b]) = (sites[b], sites[a])
    (distances[a], distances[b]) = (distances[b], distances[a])
  }

  mutating func offer(_ site: Int, _ distance: Double) {
    if size < capacity {
      sites[size] = site
      distances[size] = distance
      var child = size
      size += 1
      while child > 0, after(child, (child - 1) / 2) {
        swap(child, (child - 1) / 2)
        child = (child - 1) / 2
      }
    } else if distance < distances[0] || (distance == distances[0] && site < sites[0]) {
      sites[0] = site
      distances[0] = distance
      siftDown(0, size)
    }
  }

  private func siftDown(_ start: Int, _ end: Int) {
    var parent = start
    while true {
      var child = 2 * parent + 1
      guard child < end else { return }
      if child + 1 < end, after(child + 1, child) { child += 1 }
      guard after(child, parent) else { return }
      swap(child, parent)
      parent = child
    }
  }

  /// Heap-sorts in place: nearest first.
  mutating func sortAscending() {
    var end = size
    while end > 1 {
      end -= 1
      swap(0, end)
      siftDown(0, end)
    }
  }
}
