/// The vector instructions our own kernels (the TensorEngine target) were compiled for,
/// chosen when building (`LANDSLIDE_ISA`, see Package.swift), and the start-up check that
/// this CPU has them. This target is compiled for the plain x86-64 baseline so that the
/// check itself runs anywhere: a binary built for AVX-512 stops with a message on an
/// AVX2-only node instead of dying of SIGILL in the middle of a job.
public enum KernelISA {
  /// The level TensorEngine was compiled for.
  public static var compiled: VectorLevel {
    #if LANDSLIDE_ISA_AVX512
      .avx512
    #elseif LANDSLIDE_ISA_AVX2
      .avx2
    #else
      .baseline
    #endif
  }

  /// The build setting that gives each level, for the message.
  static func buildSetting(_ level: VectorLevel) -> String {
    switch level {
    case .avx512: "LANDSLIDE_ISA=avx512"
    case .avx2, .avx: "LANDSLIDE_ISA=avx2"
    case .baseline: "LANDSLIDE_ISA=baseline"
    }
  }

  /// Nil when `cpu` runs what this build needs; otherwise what to tell the user: the
  /// instructions missing and the build to use on such nodes.
  public static func unsupported(on cpu: CPUFeatures, compiled: VectorLevel = compiled) -> String? {
    let missing = cpu.missing(for: compiled)
    guard !missing.isEmpty else { return nil }
    let fallback = cpu.level >= .avx2 ? VectorLevel.avx2 : .baseline
    return "this landslide binary's kernels were built for \(compiled.name), but this CPU "
      + "lacks \(missing.joined(separator: ", ")); build for it with "
      + "`\(buildSetting(fallback)) swift build -c release` (for a cluster whose nodes differ, "
      + "build once with the oldest node's level)"
  }
}
