import Foundation

/// The widest family of vector instructions a CPU offers, in the steps that matter to the
/// BLAS kernels and to ours.
public enum VectorLevel: Int, Comparable, Sendable, CaseIterable {
  /// SSE2/SSE3 only (the generic x86-64 kernels).
  case baseline
  /// AVX (Sandy Bridge).
  case avx
  /// AVX2 with FMA (Haswell, Zen).
  case avx2
  /// AVX-512 F, CD, BW, DQ and VL (Skylake-SP and newer, Zen 4).
  case avx512

  public static func < (lhs: VectorLevel, rhs: VectorLevel) -> Bool { lhs.rawValue < rhs.rawValue }

  public var name: String {
    switch self {
    case .baseline: "SSE3"
    case .avx: "AVX"
    case .avx2: "AVX2+FMA"
    case .avx512: "AVX-512"
    }
  }

  /// The /proc/cpuinfo flags a CPU needs for this level: the vector extensions and the
  /// scalar ones a compiler targeting Haswell (or Skylake-SP) may emit anywhere (`abm` is
  /// LZCNT).
  public var requiredFlags: [String] {
    let avx2 = ["avx", "avx2", "fma", "f16c", "bmi1", "bmi2", "abm", "movbe", "popcnt"]
    switch self {
    case .baseline: return []
    case .avx: return ["avx"]
    case .avx2: return avx2
    case .avx512: return avx2 + ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]
    }
  }
}

/// What this CPU and its operating system can run: the kernel's flags in /proc/cpuinfo,
/// which it derives from CPUID and clears where the OS does not save the wider registers
/// (XSAVE), so a flag here is an instruction that works.
public struct CPUFeatures: Sendable, Equatable {
  /// Test hook: a space-separated flag list used instead of /proc/cpuinfo, so that a test
  /// can play a node of another generation.
  public static let overrideVariable = "LANDSLIDE_CPU_FLAGS"

  public let flags: Set<String>

  public init(flags: Set<String>) { self.flags = flags }

  /// This machine's features (or `LANDSLIDE_CPU_FLAGS`'s).
  public static let current: CPUFeatures = {
    if let listed = ProcessInfo.processInfo.environment[overrideVariable] {
      return CPUFeatures(flags: Set(listed.split(separator: " ").map(String.init)))
    }
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
      let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
      let colon = line.firstIndex(of: ":")
    else { return CPUFeatures(flags: []) }
    return CPUFeatures(
      flags: Set(line[line.index(after: colon)...].split(separator: " ").map(String.init)))
  }()

  /// The widest level whose every flag is present.
  public var level: VectorLevel {
    VectorLevel.allCases.last { level in level.requiredFlags.allSatisfy(flags.contains) }
      ?? .baseline
  }

  /// Of `level`'s flags, those this CPU lacks.
  public func missing(for level: VectorLevel) -> [String] {
    level.requiredFlags.filter { !flags.contains($0) }
  }

  public var hasBFloat16: Bool { flags.contains("avx512_bf16") }
}
