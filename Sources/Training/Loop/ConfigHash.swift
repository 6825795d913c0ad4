import TensorEngine

/// Identifies a run's config by the file's text and its `--set` overrides, in order.
/// Checkpoints carry it, and resuming one into another config is refused.
public enum ConfigHash {
  public static func of(text: String, overrides: [String]) -> String {
    let bytes = Array((text + "\n" + overrides.joined(separator: "\n")).utf8)
    return String(bytes.withUnsafeBytes { SafeTensors.checksum($0) }, radix: 16)
  }
}
