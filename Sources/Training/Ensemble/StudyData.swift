import Configuration
import Foundation
import GeoData
import TensorEngine

/// A run's data: the study directory (`study.json`, `predictors/`, inventory) and its
/// prepared shards. A synthetic study area is generated on first use and the shards are
/// prepared once; both are reused while they match the config.
public struct StudyData: Sendable {
  public let study: String
  public let inventory: String
  public let shards: String
  public let manifest: StudyManifest

  /// Generates (synthetic areas) and prepares what `directory` lacks for `config`; a
  /// synthetic area goes to `directory/study`, shards to `directory/shards`.
  public static func ensure(
    _ config: LandslideConfig, in directory: String, log: (String) -> Void
  ) throws(TrainingError) -> StudyData {
    let study: String
    let inventory: String
    do {
      switch config.studyArea {
      case .synthetic(let area):
        study = (directory as NSString).appendingPathComponent("study")
        inventory = (study as NSString).appendingPathComponent("inventory.tif")
        let specification = SyntheticStudyArea.Specification(
          seed: UInt64(area.seed), widthKm: area.widthKm, heightKm: area.heightKm,
          periods: area.periods, cellPixels: config.data.cellPixels)
        if !holds(specification, study) {
          log("generating the synthetic study area in \(study)")
          try SyntheticStudyArea.generate(specification, into: study)
        }
      case .files(let files):
        study = (files.predictors as NSString).deletingLastPathComponent
        inventory = files.inventory
      }
      let shards = (directory as NSString).appendingPathComponent("shards")
      let studyManifest =
        FileManager.default.contents(
          atPath: (study as NSString).appendingPathComponent("study.json")) ?? Data()
      let recipe = preparationRecipe(config, study: study, inventory: inventory) + studyManifest
      let recipePath = (shards as NSString).appendingPathComponent("recipe.json")
      if FileManager.default.contents(atPath: recipePath) != recipe
        || !FileManager.default.fileExists(
          atPath: (shards as NSString).appendingPathComponent("shards.json"))
      {
        log("preparing training shards in \(shards)")
        // Gone first: a preparation cut short must not look finished afterwards.
        try? FileManager.default.removeItem(atPath: recipePath)
        let prepared = try StudyPreparation.prepare(
          study: study, inventory: inventory, into: shards, options: options(config))
        log(summary(prepared))
        do { try AtomicFile.write(recipe, to: recipePath) } catch {
          throw TrainingError("\(recipePath): \(error.message)")
        }
      }
      return StudyData(
        study: study, inventory: inventory, shards: shards,
        manifest: try StudyManifest.read(study: study))
    } catch let error as TrainingError {
      throw error
    } catch {
      throw TrainingError("\(error)")
    }
  }

  /// The preparation options a config asks for.
  public static func options(_ config: LandslideConfig) -> StudyPreparation.Options {
    var options = StudyPreparation.Options()
    options.patchCells = config.data.patchCells
    options.shiftedGrid = config.data.shiftedGrid
    options.blockCells = config.data.blockCells
    options.validationFraction = config.data.validationFraction
    options.testFraction = config.data.testFraction
    options.randomSplit = config.data.split == .random
    options.seed = UInt64(config.training.seed)
    return options
  }

  /// Whether `directory` already holds the synthetic area of `specification`.
  public static func holds(_ specification: SyntheticStudyArea.Specification, _ directory: String)
    -> Bool
  {
    guard let manifest = try? StudyManifest.read(study: directory) else { return false }
    return manifest.seed == specification.seed && manifest.widthKm == specification.widthKm
      && manifest.heightKm == specification.heightKm && manifest.periods == specification.periods
      && manifest.cellPixels == specification.cellPixels
  }

  /// One line on what `prepare` made.
  public static func summary(_ prepared: PreparedStudy) -> String {
    let counts = SplitSide.allCases.map { side in
      "\(side.rawValue) \(prepared.shards.filter { $0.side == side }.reduce(0) { $0 + $1.patches.count })"
    }
    return
      "patches \(counts.joined(separator: ", ")); dropped \(prepared.droppedForNoData) at nodata, "
      + "\(prepared.droppedAtSplitBoundaries) at split boundaries; \(prepared.shards.count) shards"
  }

  /// Everything the shards depend on besides the study's manifest (appended by the caller),
  /// so that changed settings or a regenerated area re-prepare them.
  static func preparationRecipe(_ config: LandslideConfig, study: String, inventory: String)
    -> Data
  {
    let d = config.data
    let text = """
      {"study": "\(study)", "inventory": "\(inventory)", "cell_pixels": \(d.cellPixels), \
      "patch_cells": \(d.patchCells), "shifted_grid": \(d.shiftedGrid), "split": "\(d.split.rawValue)", \
      "validation_fraction": \(d.validationFraction), "test_fraction": \(d.testFraction), \
      "block_cells": \(d.blockCells), "seed": \(config.training.seed)}

      """
    return Data(text.utf8)
  }
}
