import Distributed
import Foundation
import GeoData

/// `landslide classical predict`: a fitted model mapped over its study, strip by strip of
/// rows (bounded memory: one strip of every factor plus the output band), the strips dealt
/// out over the ranks and gathered by rank 0, which writes the GeoTIFF (the factors' grid,
/// nodata kept) and a PNG quick-look.
public enum ClassicalMapping {
  /// Maps the model at `modelPath` over `study` into `tiffPath` and `pngPath`.
  public static func map(
    modelPath: String, study: ClassicalStudy, tiffPath: String, pngPath: String,
    communicator: Communicator?, log: (String) -> Void
  ) throws(ClassicalError) {
    let (stored, metadata) = try StoredModel.read(modelPath)
    guard let json = metadata[FeatureEncoder.metadataKey],
      let encoder = try? JSONDecoder().decode(FeatureEncoder.self, from: Data(json.utf8))
    else {
      throw ClassicalError(modelPath, "no readable '\(FeatureEncoder.metadataKey)' in the metadata")
    }
    let model = try ClassicalModels.rebuild(stored)
    let names = study.factors.map(\.name)
    guard encoder.columns.map(\.name) == names else {
      throw ClassicalError(
        modelPath,
        "fitted on factors \(encoder.columns.map(\.name).joined(separator: ", ")); the study has "
          + names.joined(separator: ", "))
    }
    let (rank, ranks) = (communicator?.rank ?? 0, communicator?.size ?? 1)
    let grid = study.grid
    let strips = (grid.height + ClassicalStudy.stripRows - 1) / ClassicalStudy.stripRows
    var map = rank == 0 ? [Float](repeating: .nan, count: grid.width * grid.height) : []
    func rows(ofStrip strip: Int) -> Range<Int> {
      (strip * ClassicalStudy.stripRows)..<min(grid.height, (strip + 1) * ClassicalStudy.stripRows)
    }
    for strip in stride(from: rank, to: strips, by: ranks) {
      let rows = rows(ofStrip: strip)
      let values = try predictStrip(rows, study: study, encoder: encoder, model: model)
      if rank == 0 {
        map.replaceSubrange(
          (rows.lowerBound * grid.width)..<(rows.upperBound * grid.width), with: values)
      } else {
        do { try communicator!.send(values, to: 0, tag: strip) } catch {
          throw ClassicalError(modelPath, "sending strip \(strip): \(error)")
        }
      }
    }
    if rank == 0, let communicator {
      for strip in 0..<strips where strip % ranks != 0 {
        let rows = rows(ofStrip: strip)
        let values: [Float]
        do {
          values = try communicator.receive(
            count: rows.count * grid.width, from: strip % ranks, tag: strip
          ).values
        } catch { throw ClassicalError(modelPath, "receiving strip \(strip): \(error)") }
        map.replaceSubrange(
          (rows.lowerBound * grid.width)..<(rows.upperBound * grid.width), with: values)
      }
    }
    guard rank == 0 else { return }
    let inventory = metadata["inventory"] ?? "?"
    let modelName = metadata["model"] ?? stored.kind
    do {
      try writeGeoTIFF(
        path: tiffPath, grid: grid,
        bands: [
          RasterBand(
            description: "susceptibility (probability of a landslide), \(modelName), \(inventory)",
            values: map)
        ], noDataValue: -9999)
      let (preview, width, height) = quickLookCells(map, width: grid.width, height: grid.height)
      try QuickLook.write(
        path: pngPath, values: preview, width: width, height: height,
        title: "Susceptibility, \(modelName), \(inventory)",
        style: .continuous(.yellowOrangeRed, range: 0...1, unit: "P"))
    } catch { throw ClassicalError(error.path, error.message) }
    log("\(modelName) \(inventory): mapped \(map.count { !$0.isNaN }) pixels → \(tiffPath)")
  }

  /// P(landslide) over rows `rows` of the grid; NaN where a factor has no data.
  static func predictStrip(
    _ rows: Range<Int>, study: ClassicalStudy, encoder: FeatureEncoder, model: any Classifier
  ) throws(ClassicalError) -> [Float] {
    let strip = try study.strip(rows)
    let count = rows.count * study.grid.width
    var valid: [Int] = []
    for offset in 0..<count where strip.allSatisfy({ !$0[offset].isNaN }) { valid.append(offset) }
    var out = [Float](repeating: .nan, count: count)
    guard !valid.isEmpty else { return out }
    var raw = [Float](repeating: 0, count: valid.count * strip.count)
    for (row, offset) in valid.enumerated() {
      for factor in 0..<strip.count { raw[row * strip.count + factor] = strip[factor][offset] }
    }
    // A class the model never saw is named with its file and pixel (the encoder would only
    // know the row of the strip).
    for (index, column) in encoder.columns.enumerated() {
      guard let categories = column.categories else { continue }
      let known = Set(categories)
      for offset in valid where !known.contains(Int(exactly: strip[index][offset]) ?? .min) {
        throw ClassicalError(
          study.factors[index].path,
          "pixel row \(rows.lowerBound + offset / study.grid.width), column "
            + "\(offset % study.grid.width) holds class \(strip[index][offset]) of "
            + "\(column.name), which the study the model was fitted on does not have (classes "
            + categories.map(String.init).joined(separator: ", ") + ")")
      }
    }
    let encoded = try encoder.encode(
      FeatureMatrix(rows: valid.count, columns: strip.count, values: raw),
      source: "factor rasters, rows \(rows.lowerBound)–\(rows.upperBound - 1)")
    for (offset, p) in zip(valid, try model.predictProbability(encoded)) { out[offset] = p }
    return out
  }

  /// The map averaged over square blocks so that a quick-look stays under ~1000 cells a
  /// side (a 4710 × 4432 map as one PNG cell per pixel would be 80 MB of RGBA).
  static func quickLookCells(_ map: [Float], width: Int, height: Int) -> ([Float], Int, Int) {
    let factor = max(1, (max(width, height) + 999) / 1000)
    guard factor > 1 else { return (map, width, height) }
    let (w, h) = ((width + factor - 1) / factor, (height + factor - 1) / factor)
    var sums = [Double](repeating: 0, count: w * h)
    var counts = [Int](repeating: 0, count: w * h)
    for row in 0..<height {
      for column in 0..<width where !map[row * width + column].isNaN {
        let cell = (row / factor) * w + column / factor
        sums[cell] += Double(map[row * width + column])
        counts[cell] += 1
      }
    }
    return (zip(sums, counts).map { $1 == 0 ? .nan : Float($0 / Double($1)) }, w, h)
  }
}
