import ArgumentParser
import GeoData

/// `landslide prepare`: a study directory to training shards.
struct Prepare: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Difference the inventory, index and split patches, and write training shards.")

  @Option(
    help: "Study directory (study.json, predictors/, inventory.tif), e.g. from `landslide synth`.")
  var study: String

  @Option(help: "Directory for the shards and shards.json.")
  var out: String

  @Option(help: "Side of the square split blocks, in cells (a multiple of 4).")
  var blockCells = 8

  @Flag(help: "Split patches at random, as the paper did (leaky: shifted patches overlap).")
  var randomSplit = false

  @Option(help: "Seed of the split.")
  var seed: UInt64 = 1

  func run() throws {
    var options = StudyPreparation.Options()
    options.blockCells = blockCells
    options.randomSplit = randomSplit
    options.seed = seed
    let prepared = try StudyPreparation.prepare(study: study, into: out, options: options)
    let counts = SplitSide.allCases.map { side in
      "\(side.rawValue) \(prepared.shards.filter { $0.side == side }.reduce(0) { $0 + $1.patches.count })"
    }
    print(
      "\(out): patches \(counts.joined(separator: ", ")); dropped \(prepared.droppedForNoData) at nodata, "
        + "\(prepared.droppedAtSplitBoundaries) at split boundaries; \(prepared.shards.count) shards"
    )
  }
}
