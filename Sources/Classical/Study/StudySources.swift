import Configuration
import Distributed
import Foundation
import GeoData

extension ClassicalStudy {
  /// The study a run uses: `data` (a study directory as `classical synth` writes it) when
  /// given, else the config's: the user's rasters (warped into `defaultData`/warped when
  /// the config asks) or its synthetic area, made into `defaultData` on first use. Rank 0
  /// makes what is missing while the other ranks wait.
  public static func load(
    _ config: ClassicalConfig, data: String?, defaultData: String, world: Communicator?,
    log: (String) -> Void
  ) throws(ClassicalError) -> ClassicalStudy {
    if let data { return try ClassicalStudy(directory: data) }
    let isFirst = world?.rank ?? 0 == 0
    func barrier() throws(ClassicalError) {
      do { try world?.barrier() } catch {
        throw ClassicalError(defaultData, "waiting for rank 0 to make the study: \(error)")
      }
    }
    switch config.study {
    case .files(let files):
      let warped = (defaultData as NSString).appendingPathComponent("warped")
      let first = isFirst ? try ClassicalStudy(files: files, warpDirectory: warped) : nil
      try barrier()
      if let first { return first }
      return try ClassicalStudy(files: files, warpDirectory: warped)
    case .synthetic(let area):
      if isFirst {
        do {
          try ClassicalSyntheticArea.ensure(
            .init(seed: UInt64(area.seed), width: area.width, height: area.height),
            in: defaultData, log: log)
        } catch { throw ClassicalError(error.path, error.message) }
      }
      try barrier()
      return try ClassicalStudy(directory: defaultData)
    }
  }

  /// The study a config names: the user's rasters and inventories; with `warp`, rasters on
  /// another grid than the first factor's are warped onto it into `warpDirectory`.
  public init(files: ClassicalFilesConfig, warpDirectory: String) throws(ClassicalError) {
    var factorPaths = files.factors
    var onGrid: (String, Bool) throws(ClassicalError) -> String = { path, _ in path }
    if files.warp {
      onGrid = { path, codes throws(ClassicalError) in
        try Self.onGrid(path, reference: files.factors[0], codes: codes, into: warpDirectory)
      }
      let categorical = Set(files.categorical)
      var warped: [String] = []
      for path in factorPaths {
        let names = try Self.factors(paths: [path], categorical: []).map(\.name)
        warped.append(try onGrid(path, names.contains(where: categorical.contains)))
      }
      factorPaths = warped
    }
    var inventories: [Inventory] = []
    for inventory in files.inventories {
      switch inventory.source {
      case .raster(let path):
        inventories.append(.raster(name: inventory.name, path: try onGrid(path, true)))
      case .polygons(let path, let layer):
        inventories.append(.polygons(name: inventory.name, path: path, layer: layer))
      case .points(let path, let x, let y, let label):
        inventories.append(.points(name: inventory.name, path: path, x: x, y: y, label: label))
      }
    }
    try self.init(
      factors: try Self.factors(paths: factorPaths, categorical: files.categorical),
      inventories: inventories)
  }

  /// `path` itself when it shares `reference`'s grid, else its warped copy in `directory`
  /// (made again unless a copy on the grid, newer than the source, is there already).
  static func onGrid(_ path: String, reference: String, codes: Bool, into directory: String)
    throws(ClassicalError) -> String
  {
    if (try? RasterStack(paths: [reference, path])) != nil { return path }
    let output = (directory as NSString).appendingPathComponent(
      (path as NSString).lastPathComponent)
    func modified(_ file: String) -> Date? {
      (try? FileManager.default.attributesOfItem(atPath: file))?[.modificationDate] as? Date
    }
    if let made = modified(output), let source = modified(path), made >= source,
      (try? RasterStack(paths: [reference, output])) != nil
    {
      return output
    }
    do {
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    } catch { throw ClassicalError(directory, "cannot create the directory") }
    do {
      let grid = try RasterDataset(path: reference).grid
      try RasterWarp.warp(path, onto: grid, resampling: codes ? .nearest : .bilinear, to: output)
    } catch { throw ClassicalError(error.path, error.message) }
    return output
  }

  /// A study directory as `landslide classical synth` writes it (its `study.json`).
  public init(directory: String) throws(ClassicalError) {
    let manifestPath = (directory as NSString).appendingPathComponent(
      ClassicalStudyManifest.fileName)
    guard FileManager.default.fileExists(atPath: manifestPath) else {
      throw ClassicalError(
        manifestPath,
        "no classical study here; make one with `landslide classical synth --out \(directory)`, "
          + "or leave --data out to use the config's study")
    }
    let manifest: ClassicalStudyManifest
    do { manifest = try ClassicalStudyManifest.read(from: manifestPath) } catch {
      throw ClassicalError(error.path, error.message)
    }
    // The paper's order: historical landslides, then earthquake-induced, then any others.
    let known = ["historical", "earthquake"]
    let names =
      known.filter { manifest.inventories[$0] != nil }
      + manifest.inventories.keys.filter { !known.contains($0) }.sorted()
    try self.init(
      factors: zip(manifest.factors, manifest.factorPaths(study: directory)).map {
        Factor(name: $0, path: $1, categorical: manifest.categorical[$0] != nil)
      },
      inventories: names.map {
        .raster(
          name: $0, path: (directory as NSString).appendingPathComponent(manifest.inventories[$0]!))
      })
  }
}
