import COpenBLAS
import CPUSupport
import Foundation

/// Which OpenBLAS kernel runs, and why. OpenBLAS built with DYNAMIC_ARCH picks its kernel
/// from the CPU model when it loads; on a model newer than the build it falls back to a
/// generic one (Debian's 0.3.21 runs `Prescott`, 4× slower, on recent Xeons) without a
/// word. `correction` finds such a choice from the CPU's flags; `landslide` then restarts
/// itself with `OPENBLAS_CORETYPE` set before the library loads again.
public struct BLASKernel: Sendable, Equatable {
  /// Why this kernel runs.
  public enum Reason: Sendable, Equatable {
    /// OpenBLAS's own choice, as good as the CPU allows.
    case detected
    /// OpenBLAS chose `from`, weaker than the CPU can run; this process was restarted.
    case corrected(from: String)
    /// The user's `OPENBLAS_CORETYPE`, kept as it is, and the stronger core this CPU
    /// could run where the user's is weaker (machines that set it for older nodes).
    case user(weakerThan: String?)

    public var description: String {
      switch self {
      case .detected: "detected by OpenBLAS"
      case .corrected(let from): "corrected: OpenBLAS chose \(from), weaker than this CPU"
      case .user(nil): "OPENBLAS_CORETYPE set by the user"
      case .user(let best?): "OPENBLAS_CORETYPE set by the user, weaker than this CPU's \(best)"
      }
    }
  }

  /// The variable OpenBLAS reads when it loads.
  public static let coreVariable = "OPENBLAS_CORETYPE"
  /// Set on the restart to the core OpenBLAS had chosen: tells the corrected process from
  /// a user's setting, and keeps it from restarting again.
  public static let correctedVariable = "LANDSLIDE_BLAS_CORRECTED_FROM"
  /// Test hook: the core to treat as OpenBLAS's choice, to play a CPU that OpenBLAS does
  /// not know.
  public static let detectedOverrideVariable = "LANDSLIDE_BLAS_DETECTED_CORE"

  /// The kernel OpenBLAS runs now (`openblas_get_corename`).
  public let core: String
  public let reason: Reason

  /// The kernel of this process.
  public static var current: BLASKernel {
    let environment = ProcessInfo.processInfo.environment
    let core = loadedCore
    if let from = environment[correctedVariable] {
      return BLASKernel(core: core, reason: .corrected(from: from))
    }
    if environment[coreVariable] != nil {
      return BLASKernel(
        core: core, reason: .user(weakerThan: strongerCore(than: core, cpu: .current)))
    }
    return BLASKernel(core: core, reason: .detected)
  }

  /// `openblas_get_corename()`.
  public static var loadedCore: String {
    guard let name = openblas_get_corename() else { return "unknown" }
    return String(cString: name)
  }

  /// "SkylakeX (detected by OpenBLAS)".
  public var description: String { "\(core) (\(reason.description))" }

  /// The core to restart with, or nil to keep the loaded one: nil when the user set
  /// `OPENBLAS_CORETYPE`, when this process is already a corrected restart, when the
  /// loaded core is not one we know, or when it already uses the CPU's widest vectors.
  public static func correction(
    loaded: String, cpu: CPUFeatures, environment: [String: String]
  ) -> String? {
    guard environment[correctedVariable] == nil, environment[coreVariable] == nil else {
      return nil
    }
    return strongerCore(than: chosenCore(loaded: loaded, environment: environment), cpu: cpu)
  }

  /// The core this CPU should run where it uses wider vectors than `core`; nil where
  /// `core` is as wide, or is a name we do not know.
  public static func strongerCore(than core: String, cpu: CPUFeatures) -> String? {
    guard let level = level(ofCore: core), let best = recommendedCore(for: cpu),
      let bestLevel = self.level(ofCore: best), bestLevel > level
    else { return nil }
    return best
  }

  /// The core OpenBLAS chose: the loaded one, or the test hook's stand-in for it.
  public static func chosenCore(loaded: String, environment: [String: String]) -> String {
    environment[detectedOverrideVariable] ?? loaded
  }

  /// The core OpenBLAS 0.3.x should run on a CPU with these features (nil: leave the
  /// choice to OpenBLAS). Cooper Lake's kernels are Skylake-X's plus bfloat16 ones.
  public static func recommendedCore(for cpu: CPUFeatures) -> String? {
    switch cpu.level {
    case .avx512: cpu.hasBFloat16 ? "Cooperlake" : "SkylakeX"
    case .avx2: "Haswell"
    case .avx: "Sandybridge"
    case .baseline: nil
    }
  }

  /// The vector level of an x86-64 OpenBLAS core's single-precision kernels; nil for a
  /// name we do not know (other architectures included), which is never corrected.
  public static func level(ofCore core: String) -> VectorLevel? {
    switch core.lowercased() {
    case "skylakex", "cooperlake", "sapphirerapids": .avx512
    case "haswell", "zen", "excavator": .avx2
    case "sandybridge", "bulldozer", "piledriver", "steamroller": .avx
    case "katmai", "coppermine", "northwood", "prescott", "banias", "atom", "core2", "penryn",
      "dunnington", "nehalem", "athlon", "opteron", "opteron(sse3)", "barcelona", "nano",
      "bobcat":
      .baseline
    default: nil
    }
  }
}
