import Configuration
import Foundation
import GeoData
import TestSupport
import Testing

@testable import Rainfall

/// The synthetic country: the same seed gives the same files, the climate has its wet
/// and dry seasons, and the events read back from its rasters are the ones its latent
/// process drew landslides from.
@Suite struct SyntheticCountryTests {
  static func specification() -> SyntheticCountry.Specification {
    var s = SyntheticCountry.Specification()
    (s.width, s.height, s.years, s.sites, s.landslides) = (48, 56, 2, 60, 150)
    return s
  }

  @Test func theSameSeedWritesTheSameCountry() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let (a, b) = (root.appendingPathComponent("a"), root.appendingPathComponent("b"))
    let manifest = try SyntheticCountry.generate(Self.specification(), into: a.path)
    try SyntheticCountry.generate(Self.specification(), into: b.path)
    for file in ["catalogue.csv", "country.json", "rain/rain_2016.tif", "statics/lithology.tif"] {
      let first = try Data(contentsOf: a.appendingPathComponent(file))
      #expect(first == (try Data(contentsOf: b.appendingPathComponent(file))), "\(file)")
    }
    #expect(manifest.landslides > 100 && manifest.landslides < 200)
    #expect(manifest.first.description == "2015-01-01" && manifest.last.description == "2016-12-31")
    let rain = try RasterDataset(path: a.appendingPathComponent("rain/rain_2016.tif").path)
    #expect(rain.bandCount == 366)
    #expect(try rain.description(band: 59) == "2016-02-29")
  }

  @Test func eventsReadBackAreTheOnesTheLatentProcessSaw() throws {
    let root = try TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    try SyntheticCountry.generate(Self.specification(), into: root.path)
    let study = try RainfallStudy(directory: root.path)
    #expect(study.catalogue.skipped.isEmpty)
    let extraction = try RainfallExtraction(study: study, rules: EventRules())
    #expect(extraction.unplaced.isEmpty)
    let table = extraction.table
    #expect(table.positives == study.catalogue.entries.count)
    // The catalogue's true probability is the latent process's at its trigger.
    let truth = try Self.catalogueProbabilities(root.appendingPathComponent("catalogue.csv"))
    for row in table.rows where row.label {
      #expect(abs((row.truth ?? -1) - (truth[row.landslide] ?? -2)) < 1e-6, "\(row.landslide)")
    }
    #expect(table.rows.allSatisfy { $0.event.antecedentSoilMoisture != nil })
    #expect(
      table.rows.allSatisfy {
        ($0.event.antecedentSoilMoisture ?? 0) >= 0.08
          && ($0.event.antecedentSoilMoisture ?? 1) <= 0.45
      })
    // The wet season (October–May) rains more than the summer at every site.
    let (windows, sites, _) = try study.windows(rules: EventRules())
    #expect(Set(windows.map(\.site)) == Set(sites.indices))
    for window in windows.prefix(20) {
      var (summer, other) = ((0.0, 0), (0.0, 0))
      for (offset, rain) in window.series.rain.enumerated() {
        if [6, 7, 8, 9].contains((window.series.first + offset).month) {
          summer = (summer.0 + Double(rain), summer.1 + 1)
        } else {
          other = (other.0 + Double(rain), other.1 + 1)
        }
      }
      #expect(other.0 / Double(other.1) > 1.5 * summer.0 / Double(summer.1), "\(window.landslide)")
    }
  }

  static func catalogueProbabilities(_ url: URL) throws -> [String: Double] {
    let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").dropFirst()
    var result: [String: Double] = [:]
    for line in lines {
      let fields = line.split(separator: ",")
      result[String(fields[0])] = Double(fields[6])
    }
    return result
  }
}
