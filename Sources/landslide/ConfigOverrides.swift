import ArgumentParser

/// `--set section.key=value`, repeatable: how every command that reads a config changes
/// one of its keys, validated like the file.
struct ConfigOverrides: ParsableArguments {
  @Option(
    name: .customLong("set"),
    help: ArgumentHelp("Override one config key; repeatable.", valueName: "section.key=value"))
  var values: [String] = []
}
