import Foundation
import TensorEngine
import TestSupport
import Testing

@testable import GeoData

@Suite struct ClassicalSyntheticAreaTests {
  /// Not square, so that a transposed grid would show.
  let specification = ClassicalSyntheticArea.Specification(seed: 5, width: 300, height: 260)

  /// A study generated into a fresh directory, and the directory (removed by the caller).
  func generated() throws -> (directory: URL, manifest: ClassicalStudyManifest) {
    let directory = try TestPaths.temporaryDirectory()
    return (directory, try ClassicalSyntheticArea.generate(specification, into: directory.path))
  }

  static func values(_ path: String) throws -> [Float] {
    try RasterDataset(path: path).read(band: 0).values
  }

  static func files(in directory: URL) throws -> [String: Data] {
    var result: [String: Data] = [:]
    let enumerator = FileManager.default.enumerator(atPath: directory.path)!
    while let name = enumerator.nextObject() as? String {
      let url = directory.appendingPathComponent(name)
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory),
        !isDirectory.boolValue
      {
        result[name] = try Data(contentsOf: url)
      }
    }
    return result
  }

  /// Sizes of the 8-connected groups of pixels equal to 1, and for each its elevation span.
  static func components(_ mask: [Float], elevation: [Float], width: Int) -> [(
    size: Int, drop: Float
  )] {
    let height = mask.count / width
    var seen = [Bool](repeating: false, count: mask.count)
    var result: [(size: Int, drop: Float)] = []
    for start in mask.indices where mask[start] == 1 && !seen[start] {
      var (stack, size) = ([start], 0)
      var (low, high) = (Float.infinity, -Float.infinity)
      seen[start] = true
      while let index = stack.popLast() {
        size += 1
        (low, high) = (min(low, elevation[index]), max(high, elevation[index]))
        let (row, column) = (index / width, index % width)
        for r in max(row - 1, 0)...min(row + 1, height - 1) {
          for c in max(column - 1, 0)...min(column + 1, width - 1)
          where mask[r * width + c] == 1 && !seen[r * width + c] {
            seen[r * width + c] = true
            stack.append(r * width + c)
          }
        }
      }
      result.append((size, high - low))
    }
    return result
  }

  @Test func sameSeedSameBytesOnAnyThreadsOtherSeedOtherArea() throws {
    let (first, second, third) = (
      try TestPaths.temporaryDirectory("a"), try TestPaths.temporaryDirectory("b"),
      try TestPaths.temporaryDirectory("c")
    )
    defer { for url in [first, second, third] { try? FileManager.default.removeItem(at: url) } }
    // The second on two threads: the bytes depend on the seed alone.
    let threads = ThreadPool.shared.threadCount
    defer { ThreadPool.shared.threadCount = threads }
    ThreadPool.shared.threadCount = 1
    try ClassicalSyntheticArea.generate(specification, into: first.path)
    ThreadPool.shared.threadCount = 2
    try ClassicalSyntheticArea.generate(specification, into: second.path)
    var other = specification
    other.seed = 6
    try ClassicalSyntheticArea.generate(other, into: third.path)
    let (a, b, c) = (
      try Self.files(in: first), try Self.files(in: second), try Self.files(in: third)
    )
    #expect(a.count == 19 + 4 + 1, "\(a.keys.sorted())")
    #expect(a == b)
    for name in a.keys where name.hasSuffix(".tif") { #expect(a[name] != c[name], "\(name)") }
  }

  @Test func manifestNamesEveryRasterOnOneGrid() throws {
    let (directory, manifest) = try generated()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("study.json").path
    #expect(try ClassicalStudyManifest.read(from: path) == manifest)
    #expect(manifest.factors == ClassicalSyntheticArea.factors && manifest.factors.count == 19)
    #expect(manifest.categorical == ["lithology": 20, "soil": 17, "land_use": 12])
    #expect(manifest.epsg == 32654 && manifest.pixelSize == 10)
    #expect(manifest.width == 300 && manifest.height == 260 && manifest.seed == 5)

    let factors = try manifest.factorStack(study: directory.path)
    let grid = factors.grid
    #expect(grid.width == 300 && grid.height == 260 && grid.epsg == 32654)
    #expect(grid.geoTransform.pixelWidth == 10 && grid.geoTransform.pixelHeight == -10)
    let others = ClassicalSyntheticArea.inventories.flatMap {
      [manifest.inventories[$0]!, manifest.truth[$0]!]
    }
    let everything = try RasterStack(
      paths: manifest.factorPaths(study: directory.path)
        + others.map { directory.appendingPathComponent($0).path })
    #expect(everything.rasters.count == 23)
    var descriptions = Set<String>()
    for raster in everything.rasters {
      #expect(raster.bandCount == 1)
      #expect(try raster.noDataValue(band: 0) == -9999, "\(raster.path)")
      descriptions.insert(try raster.description(band: 0))
    }
    #expect(descriptions.count == 23 && !descriptions.contains(""))
    #expect(descriptions.contains("slope (degrees)"))
    #expect(descriptions.contains("peak ground acceleration, 3-D vector (g)"))

    // The counts in the manifest are those of the files.
    let elevation = try Self.values(factors.rasters[3].path)
    #expect(manifest.validPixels == elevation.filter { !$0.isNaN }.count)
    for name in ClassicalSyntheticArea.inventories {
      let inventory = try Self.values(
        directory.appendingPathComponent(manifest.inventories[name]!).path)
      #expect(manifest.landslidePixels[name] == inventory.filter { $0 == 1 }.count)
    }
    // The epicentre lies inside the area.
    let t = grid.geoTransform
    #expect(manifest.epicentre[0] > t.originX && manifest.epicentre[0] < t.originX + 3000)
    #expect(manifest.epicentre[1] < t.originY && manifest.epicentre[1] > t.originY - 2600)

    #expect(throws: RasterError.self) {
      try ClassicalStudyManifest.read(from: directory.appendingPathComponent("none.json").path)
    }
  }

  @Test func nodataIsTheSeaAlongTheSouthernEdgeInEveryLayer() throws {
    let (directory, manifest) = try generated()
    defer { try? FileManager.default.removeItem(at: directory) }
    let paths =
      manifest.factorPaths(study: directory.path)
      + ClassicalSyntheticArea.inventories.flatMap {
        [manifest.inventories[$0]!, manifest.truth[$0]!].map {
          directory.appendingPathComponent($0).path
        }
      }
    let land = try RasterDataset(path: paths[0]).read(band: 0).valid
    for path in paths {
      let band = try RasterDataset(path: path).read(band: 0)
      #expect(band.valid == land, "\(path)")
      #expect(zip(band.values, land).allSatisfy { $0.isFinite == $1 }, "\(path)")
    }
    let (width, height) = (300, 260)
    let sea = land.filter { !$0 }.count
    #expect(sea > land.count / 100 && sea < land.count / 10, "sea \(sea) of \(land.count)")
    // Land in the north; sea below the coast in every column that has any.
    #expect(land[0..<width].allSatisfy { $0 })
    for column in 0..<width {
      let coast = (0..<height).firstIndex { !land[$0 * width + column] } ?? height
      #expect((coast..<height).allSatisfy { !land[$0 * width + column] }, "column \(column)")
    }
  }

  @Test func categoricalFactorsAreContiguousUnitsOfTheirCodes() throws {
    let (directory, manifest) = try generated()
    defer { try? FileManager.default.removeItem(at: directory) }
    let factors = directory.appendingPathComponent("factors")
    let width = 300
    let elevation = try Self.values(factors.appendingPathComponent("elevation.tif").path)
    let slope = try Self.values(factors.appendingPathComponent("slope.tif").path)
    var codes: [String: [Float]] = [:]
    for (name, classes) in manifest.categorical {
      let values = try Self.values(factors.appendingPathComponent("\(name).tif").path)
      codes[name] = values
      let present = Set(values.filter { !$0.isNaN })
      #expect(present.allSatisfy { $0 == $0.rounded() && $0 >= 1 && $0 <= Float(classes) })
      #expect(present.count >= 3, "\(name): \(present.sorted())")
      // Units hundreds of metres across: a pixel nearly always shares its neighbours' class.
      var (sameRight, sameBelow, pairs) = (0, 0, 0)
      for index in 0..<(values.count - width) where index % width != width - 1 {
        let (here, right, below) = (values[index], values[index + 1], values[index + width])
        guard !here.isNaN, !right.isNaN, !below.isNaN else { continue }
        pairs += 1
        if here == right { sameRight += 1 }
        if here == below { sameBelow += 1 }
      }
      #expect(Double(sameRight) > 0.95 * Double(pairs), "\(name): \(sameRight) of \(pairs)")
      #expect(Double(sameBelow) > 0.95 * Double(pairs), "\(name): \(sameBelow) of \(pairs)")
    }
    func mean(_ values: [Float], where keep: (Int) -> Bool) -> (mean: Double, count: Int) {
      var (total, count) = (0.0, 0)
      for index in values.indices where keep(index) {
        (total, count) = (total + Double(values[index]), count + 1)
      }
      return (total / Double(max(count, 1)), count)
    }
    // Lithology follows elevation bands: younger formations (codes 1–4, 5–8, …) lie lower.
    let lithology = codes["lithology"]!
    let formations = (0..<5).map { formation in
      mean(elevation) { !lithology[$0].isNaN && (Int(lithology[$0]) - 1) / 4 == formation }
    }.filter { $0.count > 500 }
    #expect(formations.count >= 2)
    #expect(zip(formations, formations.dropFirst()).allSatisfy { $0.mean < $1.mean })
    // Farmland (paddy, other farmland) lies on gentler ground than forest.
    let landUse = codes["land_use"]!
    let forest = mean(slope) { landUse[$0] == 3 }
    let farmland = mean(slope) { landUse[$0] == 1 || landUse[$0] == 2 }
    #expect(forest.count > 1000 && farmland.count > 100)
    #expect(farmland.mean < forest.mean)
  }

  @Test func terrainFactorsComeFromTheTerrainCode() throws {
    let (directory, _) = try generated()
    defer { try? FileManager.default.removeItem(at: directory) }
    let factors = directory.appendingPathComponent("factors")
    func read(_ name: String) throws -> [Float] {
      try Self.values(factors.appendingPathComponent("\(name).tif").path)
    }
    let dem = try ElevationModel(contentsOf: factors.appendingPathComponent("elevation.tif").path)
    let derivatives = SurfaceDerivatives(dem)
    let (slope, aspect, curvature) = (try read("slope"), try read("aspect"), try read("curvature"))
    // Pixels that break each rule, counted so that a failure reports once.
    var (flat, sloping, wrongSlope, wrongAspect, wrongCurvature) = (0, 0, 0, 0, 0)
    for index in slope.indices where !slope[index].isNaN {
      if slope[index] != derivatives.slopeDegrees[index] { wrongSlope += 1 }
      if slope[index] < ClassicalSyntheticArea.flatSlope {
        flat += 1
        if aspect[index] != -1 { wrongAspect += 1 }
      } else {
        sloping += 1
        // The azimuth of the downslope direction: its cosine is the northness.
        let radians = Double(aspect[index]) * .pi / 180
        if !(aspect[index] >= 0 && aspect[index] < 360)
          || abs(cos(radians) - Double(derivatives.northness[index])) > 1e-4
          || abs(sin(radians) - Double(derivatives.eastness[index])) > 1e-4
        {
          wrongAspect += 1
        }
      }
      let expected = 100 * (derivatives.profileCurvature[index] - derivatives.planCurvature[index])
      if abs(curvature[index] - expected) > 1e-5 * max(1, abs(expected)) { wrongCurvature += 1 }
    }
    #expect(wrongSlope == 0)
    #expect(wrongAspect == 0)
    #expect(wrongCurvature == 0)
    #expect(flat > 0 && sloping > 10 * flat, "flat \(flat), sloping \(sloping)")
    var river: [Float] = []
    try TerrainLayers.produce(dem, riverArea: ClassicalSyntheticArea.riverArea) { layer, values in
      if layer == .distanceToRiver { river = values }
    }
    let written = try read("distance_to_river")
    #expect(zip(written, river).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
    #expect(written.contains(0))
    // Distances to lines: zero on them, growing away from them.
    for name in ["distance_to_fault", "distance_to_road"] {
      let distance = try read(name).filter { !$0.isNaN }
      #expect(distance.contains(0) && distance.allSatisfy { $0 >= 0 }, "\(name)")
      #expect(distance.max()! > 300, "\(name)")
    }
  }

  @Test func theNormBoundsEachComponentAndGivesTheIntensity() throws {
    let (directory, manifest) = try generated()
    defer { try? FileManager.default.removeItem(at: directory) }
    let factors = directory.appendingPathComponent("factors")
    func read(_ name: String) throws -> [Float] {
      try Self.values(factors.appendingPathComponent("\(name).tif").path)
    }
    let (ns, ew, ud, norm) = (
      try read("pga_ns"), try read("pga_ew"), try read("pga_ud"), try read("pga_3d")
    )
    let intensity = try read("seismic_intensity")
    let (distance, azimuth) = (try read("distance_to_epicentre"), try read("azimuth_to_epicentre"))
    let transform = try RasterDataset(path: factors.appendingPathComponent("pga_3d.tif").path).grid
      .geoTransform
    var (unbounded, wrongNorm, wrongIntensity, wrongDistance, wrongAzimuth) = (0, 0, 0, 0, 0)
    for index in norm.indices where !norm[index].isNaN {
      if !(min(ns[index], ew[index], ud[index]) > 0
        && norm[index] >= max(ns[index], ew[index], ud[index]))
      {
        unbounded += 1
      }
      let squares = ns[index] * ns[index] + ew[index] * ew[index] + ud[index] * ud[index]
      if abs(norm[index] - squares.squareRoot()) > 1e-5 * norm[index] { wrongNorm += 1 }
      let jma = 2 * log10(Double(norm[index]) * 980.665 / 3) + 0.94
      if abs(Double(intensity[index]) - jma) > 1e-4 { wrongIntensity += 1 }
      // Distance and azimuth from the pixel's centre to the manifest's epicentre.
      let x = transform.originX + (Double(index % 300) + 0.5) * transform.pixelWidth
      let y = transform.originY + (Double(index / 300) + 0.5) * transform.pixelHeight
      let (east, north) = (manifest.epicentre[0] - x, manifest.epicentre[1] - y)
      if abs(Double(distance[index]) - (east * east + north * north).squareRoot()) > 0.01 {
        wrongDistance += 1
      }
      var expected = atan2(east, north) * 180 / .pi
      if expected < 0 { expected += 360 }
      let gap = abs(Double(azimuth[index]) - expected)
      if !(azimuth[index] >= 0 && azimuth[index] < 360) || min(gap, 360 - gap) > 0.01 {
        wrongAzimuth += 1
      }
    }
    #expect(unbounded == 0)
    #expect(wrongNorm == 0)
    #expect(wrongIntensity == 0)
    #expect(wrongDistance == 0)
    #expect(wrongAzimuth == 0)
  }

  /// Across the default 20 km area, shaking near the epicentre is clearly stronger than
  /// far from it (a 3 km test area spans too little distance to show it).
  @Test func shakingDecaysWithDistanceFromTheEpicentre() throws {
    let area = try ClassicalSyntheticArea.Area(.init(seed: 5), directory: "")
    let shaking = ClassicalSyntheticArea.Shaking(
      area, elevation: [Float](repeating: 100, count: area.count))
    var (near, far) = ((0.0, 0), (0.0, 0))
    for index in stride(from: 0, to: area.count, by: 97) where area.valid[index] {
      let (x, y) = area.position(index)
      let components: [ClassicalSyntheticArea.Shaking.Component] = [
        .northSouth, .eastWest, .upDown,
      ]
      let norm =
        shaking.horizontal(index, x, y)
        * components.map { pow(shaking.share($0, x, y), 2) }.reduce(0, +).squareRoot()
      let distance = shaking.distance(x, y)
      if distance < 3000 { near = (near.0 + norm, near.1 + 1) }
      if distance > 12_000 { far = (far.0 + norm, far.1 + 1) }
    }
    #expect(near.1 > 100 && far.1 > 100)
    let (nearMean, farMean) = (near.0 / Double(near.1), far.0 / Double(far.1))
    #expect(nearMean > 1.3 * farMean, "near \(nearMean) g, far \(farMean) g")
  }

  @Test func inventoriesAreLandslidePolygonsWhereTheTruthIsHigh() throws {
    let (directory, manifest) = try generated()
    defer { try? FileManager.default.removeItem(at: directory) }
    let elevation = try Self.values(directory.appendingPathComponent("factors/elevation.tif").path)
    for name in ClassicalSyntheticArea.inventories {
      let inventory = try Self.values(
        directory.appendingPathComponent(manifest.inventories[name]!).path)
      let truth = try Self.values(directory.appendingPathComponent(manifest.truth[name]!).path)
      let land = inventory.filter { !$0.isNaN }
      #expect(land.allSatisfy { $0 == 0 || $0 == 1 }, "\(name)")
      let share = Double(land.filter { $0 == 1 }.count) / Double(land.count)
      let target = ClassicalSyntheticArea.landslideShare[name]!
      #expect(share > 0.5 * target && share < 1.5 * target, "\(name): \(share)")

      let polygons = Self.components(inventory, elevation: elevation, width: 300)
      let sizes = polygons.map(\.size).sorted()
      #expect(sizes.count >= 10 && sizes.count <= manifest.landslides[name]!, "\(name)")
      #expect(sizes.filter { $0 >= 5 }.count >= 9 * sizes.count / 10, "\(name): \(sizes)")
      #expect(sizes[sizes.count / 2] >= 10 && sizes[sizes.count / 2] <= 300, "\(name): \(sizes)")
      #expect(sizes.last! <= 3000, "\(name): \(sizes)")
      // They run downslope: most fall by several metres from head to toe.
      #expect(polygons.filter { $0.drop > 5 }.count >= 8 * polygons.count / 10, "\(name)")

      // The truth ranks landslide pixels above the rest (a rank AUC), and their median
      // probability is several times the others'.
      let scored = inventory.indices.filter { !inventory[$0].isNaN }
        .map { (truth: truth[$0], inside: inventory[$0] == 1) }.sorted { $0.truth < $1.truth }
      #expect(scored.allSatisfy { $0.truth > 0 && $0.truth < 1 }, "\(name)")
      let inside = scored.filter(\.inside).map(\.truth)
      let outside = scored.filter { !$0.inside }.map(\.truth)
      let ranks = scored.indices.filter { scored[$0].inside }.reduce(0.0) { $0 + Double($1 + 1) }
      let (positives, negatives) = (Double(inside.count), Double(outside.count))
      let auc = (ranks - positives * (positives + 1) / 2) / (positives * negatives)
      #expect(auc > 0.7, "\(name): AUC of the truth \(auc)")
      let (on, off) = (inside[inside.count / 2], outside[outside.count / 2])
      #expect(on > 3 * off, "\(name): median truth \(on) on landslides, \(off) off them")
    }
  }

  @Test func anAreaTooSmallForRiversIsRefused() throws {
    let directory = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let error = #expect(throws: RasterError.self) {
      try ClassicalSyntheticArea.generate(.init(width: 50, height: 400), into: directory.path)
    }
    #expect(error?.message.contains("at least 100 × 100 pixels") == true)
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
  }
}
