import Foundation
import Testing

@Suite struct CommandLineTests {
  @Test func versionIsPrinted() throws {
    let result = try Launcher.landslide("--version")
    #expect(result.status == 0)
    #expect(result.standardOutput == "0.1.0\n")
  }

  @Test func helpSummarisesEverySubcommand() throws {
    let result = try Launcher.landslide("--help")
    #expect(result.status == 0)
    #expect(result.standardOutput.contains("info                    Report library versions"))
    #expect(result.standardOutput.contains("config                  Validate YAML run configs."))
  }

  @Test func configCheckAcceptsTheShippedExample() throws {
    let result = try Launcher.landslide("config", "check", "configs/ensemble.yaml")
    #expect(result.status == 0)
    #expect(result.standardOutput.hasPrefix("configs/ensemble.yaml: valid\n"))
    #expect(result.standardOutput.contains("blocks per stage 3-4-6-3 (16 blocks)"))
  }

  @Test func configCheckAppliesOverrides() throws {
    let result = try Launcher.landslide(
      "config", "check", "configs/ensemble.yaml", "--set", "training.batch_size=64", "--set",
      "susceptibility.blocks_per_stage=[1, 1, 2, 2]")
    #expect(result.status == 0)
    #expect(result.standardOutput.contains("training: batch 64,"))
    #expect(result.standardOutput.contains("blocks per stage 1-1-2-2 (6 blocks)"))
  }

  @Test func configCheckReportsTheProblemAndFails() throws {
    let result = try Launcher.landslide(
      "config", "check", "configs/ensemble.yaml", "--set", "training.learning_rate=fast")
    #expect(result.status != 0)
    #expect(
      result.standardError.contains(
        "--set training.learning_rate=fast: training.learning_rate: expected a number > 0 and ≤ 10, found 'fast'"
      ))
  }
}
