import CPUSupport
import Testing

@testable import TensorEngine

/// Which OpenBLAS kernel a process should run, and whether our kernels can run at all,
/// decided from a CPU's flags (the restart itself is tested on the binary).
@Suite struct KernelSelectionTests {
  static let avx2 = CPUFeatures(flags: Set(VectorLevel.avx2.requiredFlags + ["sse2", "sse3"]))
  static let avx512 = CPUFeatures(flags: Set(VectorLevel.avx512.requiredFlags))
  static let cooperlake = CPUFeatures(
    flags: Set(VectorLevel.avx512.requiredFlags + ["avx512_bf16"]))
  static let old = CPUFeatures(flags: ["sse2", "sse3", "ssse3"])

  @Test func levelsFromFlags() {
    #expect(Self.old.level == .baseline)
    #expect(Self.avx2.level == .avx2)
    #expect(Self.avx512.level == .avx512)
    // AVX-512 F without BW/DQ/VL (Knights Landing) counts as AVX2 for our kernels.
    let knightsLanding = CPUFeatures(flags: Self.avx2.flags.union(["avx512f", "avx512cd"]))
    #expect(knightsLanding.level == .avx2)
  }

  @Test func genericKernelOnAnAVX512CPUIsCorrected() {
    #expect(
      BLASKernel.correction(loaded: "Prescott", cpu: Self.cooperlake, environment: [:])
        == "Cooperlake")
    #expect(
      BLASKernel.correction(loaded: "Prescott", cpu: Self.avx512, environment: [:]) == "SkylakeX")
    #expect(BLASKernel.correction(loaded: "Core2", cpu: Self.avx2, environment: [:]) == "Haswell")
    #expect(
      BLASKernel.correction(loaded: "Haswell", cpu: Self.avx512, environment: [:]) == "SkylakeX")
    #expect(
      BLASKernel.correction(loaded: "Sandybridge", cpu: Self.avx2, environment: [:]) == "Haswell")
  }

  @Test func kernelsAsWideAsTheCPUAreKept() {
    #expect(
      BLASKernel.correction(loaded: "SkylakeX", cpu: Self.cooperlake, environment: [:]) == nil)
    #expect(BLASKernel.correction(loaded: "Haswell", cpu: Self.avx2, environment: [:]) == nil)
    #expect(BLASKernel.correction(loaded: "Zen", cpu: Self.avx2, environment: [:]) == nil)
    #expect(BLASKernel.correction(loaded: "Prescott", cpu: Self.old, environment: [:]) == nil)
    // Names we do not know (other architectures) are left to OpenBLAS.
    #expect(BLASKernel.correction(loaded: "NEOVERSEN1", cpu: Self.avx512, environment: [:]) == nil)
  }

  @Test func aUsersWeakerChoiceIsNamed() {
    #expect(BLASKernel.strongerCore(than: "Haswell", cpu: Self.avx512) == "SkylakeX")
    #expect(BLASKernel.strongerCore(than: "SkylakeX", cpu: Self.avx512) == nil)
    #expect(BLASKernel.strongerCore(than: "Haswell", cpu: Self.avx2) == nil)
    #expect(BLASKernel.strongerCore(than: "NEOVERSEN1", cpu: Self.avx512) == nil)
    #expect(
      BLASKernel.Reason.user(weakerThan: "SkylakeX").description
        == "OPENBLAS_CORETYPE set by the user, weaker than this CPU's SkylakeX")
  }

  @Test func theUsersChoiceAndARestartedProcessAreKept() {
    let user = [BLASKernel.coreVariable: "Prescott"]
    #expect(BLASKernel.correction(loaded: "Prescott", cpu: Self.avx512, environment: user) == nil)
    // The restarted process never restarts again, whatever it loaded.
    let restarted = [BLASKernel.coreVariable: "SkylakeX", BLASKernel.correctedVariable: "Prescott"]
    #expect(
      BLASKernel.correction(loaded: "Prescott", cpu: Self.avx512, environment: restarted) == nil)
    // The test hook stands in for OpenBLAS's own choice.
    let played = [BLASKernel.detectedOverrideVariable: "Prescott"]
    #expect(
      BLASKernel.correction(loaded: "SkylakeX", cpu: Self.avx512, environment: played) == "SkylakeX"
    )
  }

  @Test func everyCoreOfDebiansOpenBLASHasALevel() {
    for core in [
      "Prescott", "Core2", "Nehalem", "Atom", "Barcelona", "Sandybridge", "Haswell", "Zen",
      "SkylakeX", "Cooperlake",
    ] {
      #expect(BLASKernel.level(ofCore: core) != nil, "\(core)")
    }
    #expect(BLASKernel.level(ofCore: "Cooperlake")! > BLASKernel.level(ofCore: "Haswell")!)
  }

  @Test func aCPUWithoutTheKernelsInstructionsIsRefusedByName() throws {
    #expect(KernelISA.unsupported(on: Self.avx512, compiled: .avx512) == nil)
    #expect(KernelISA.unsupported(on: Self.avx512, compiled: .avx2) == nil)
    let message = try #require(KernelISA.unsupported(on: Self.avx2, compiled: .avx512))
    #expect(message.contains("avx512f") && message.contains("avx512bw"))
    #expect(!message.contains("avx2,"))
    #expect(message.contains("LANDSLIDE_ISA=avx2"))
    let baseline = try #require(KernelISA.unsupported(on: Self.old, compiled: .avx2))
    #expect(baseline.contains("fma") && baseline.contains("LANDSLIDE_ISA=baseline"))
  }

  /// The library this process loaded reports a core the level table knows, so that a
  /// generic fallback on this machine could never go unnoticed.
  @Test func theLoadedCoreIsKnown() {
    #if arch(x86_64)
      #expect(BLASKernel.level(ofCore: BLASKernel.loadedCore) != nil, "\(BLASKernel.loadedCore)")
    #endif
  }
}
