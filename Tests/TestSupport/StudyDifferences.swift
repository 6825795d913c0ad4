import Foundation
import GeoData

/// Where two study directories differ: the predictor bands whose values are not equal bit
/// for bit (NaN included) and the whole files whose bytes differ. What a test of "tiles and
/// strips do not change the values" asserts is empty.
public func studyDifferences(
  _ first: URL, _ second: URL, predictors: [String], files: [String]
) throws -> [String] {
  var differences: [String] = []
  for name in predictors {
    let file = "predictors/\(name).tif"
    let (a, b) = (
      try RasterDataset(path: first.appendingPathComponent(file).path),
      try RasterDataset(path: second.appendingPathComponent(file).path)
    )
    guard a.bandCount == b.bandCount else {
      differences.append("\(name): \(a.bandCount) vs \(b.bandCount) bands")
      continue
    }
    for band in 0..<a.bandCount
    where try a.read(band: band).values.map(\.bitPattern)
      != b.read(band: band).values.map(\.bitPattern)
    {
      differences.append("\(name), band \(band)")
    }
  }
  for file in files
  where try Data(contentsOf: first.appendingPathComponent(file))
    != Data(contentsOf: second.appendingPathComponent(file))
  {
    differences.append(file)
  }
  return differences
}
