// swift-tools-version: 6.1
// The landslide hazard toolkit. Targets follow the layers of ARCHITECTURE.md; a layer
// imports only layers below it:
//   C bindings (CMPI, COpenBLAS, CLAPACKE, CGDAL, CXGBoost)
//   → TensorEngine → GeoData, Waveform → Models → Configuration → Distributed → Evaluation
//   → Training → Sweep → landslide (command line)
import Foundation
import PackageDescription

/// The vector instructions of our own kernels (TensorEngine) on x86-64: `LANDSLIDE_ISA`
/// when building, `avx512` (Skylake-SP and newer, Zen 4), `avx2` (AVX2 + FMA: Haswell,
/// Zen) or `baseline`; by default the widest the build host runs. Every binary checks at
/// start-up that its CPU has them (CPUSupport's KernelISA) and otherwise stops with the
/// missing instructions named. For a cluster whose nodes differ, build once for the oldest
/// (`LANDSLIDE_ISA=avx2`).
enum KernelISA: String {
  case avx512, avx2, baseline

  static var chosen: KernelISA {
    if let name = ProcessInfo.processInfo.environment["LANDSLIDE_ISA"] {
      guard let isa = KernelISA(rawValue: name) else {
        fatalError("LANDSLIDE_ISA=\(name): expected avx512, avx2 or baseline")
      }
      return isa
    }
    #if arch(x86_64)
      let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
      let flags = Set(
        cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ") ?? [])
      // The flags of CPUSupport's VectorLevel.requiredFlags, which the start-up check uses
      // (a manifest cannot import a target): both lists must stay the same.
      let avx2: [Substring] = [
        "avx", "avx2", "fma", "f16c", "bmi1", "bmi2", "abm", "movbe", "popcnt",
      ]
      let avx512: [Substring] = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]
      guard avx2.allSatisfy(flags.contains) else { return .baseline }
      return avx512.allSatisfy(flags.contains) ? .avx512 : .avx2
    #else
      return .baseline
    #endif
  }

  var compilerFlags: [String] {
    switch self {
    case .avx512: ["-target-cpu", "skylake-avx512"]
    case .avx2: ["-target-cpu", "haswell"]
    case .baseline: []
    }
  }

  /// Tells CPUSupport what the kernels need.
  var define: SwiftSetting {
    switch self {
    case .avx512: .define("LANDSLIDE_ISA_AVX512")
    case .avx2: .define("LANDSLIDE_ISA_AVX2")
    case .baseline: .define("LANDSLIDE_ISA_BASELINE")
    }
  }
}
let kernelISA = KernelISA.chosen

let package = Package(
  name: "landslide",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "landslide", targets: ["landslide"]),
    // Preloaded by `landslide bench` to count heap allocations; never linked.
    .library(name: "LandslideAllocationCounter", type: .dynamic, targets: ["CAllocationCounter"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
  ],
  targets: [
    // Layer 1: C bindings, found with pkg-config.
    .systemLibrary(name: "CMPI", pkgConfig: "ompi", providers: [.apt(["libopenmpi-dev"])]),
    .systemLibrary(
      name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(
      name: "CLAPACKE", pkgConfig: "lapacke", providers: [.apt(["liblapacke-dev"])]),
    .systemLibrary(name: "CGDAL", pkgConfig: "gdal", providers: [.apt(["libgdal-dev"])]),
    .systemLibrary(
      name: "CXGBoost", pkgConfig: "xgboost", providers: [.apt(["libxgboost-dev"])]),
    .target(name: "CAllocationCounter"),

    // What the CPU can run and what our kernels need, compiled for the x86-64 baseline so
    // that the start-up check runs on any CPU.
    .target(name: "CPUSupport", swiftSettings: [kernelISA.define]),
    // CRC-32C of safetensors data sections (SSE4.2 `crc32` where the CPU has it), optimised
    // in debug builds too: every checkpoint opened is checksummed.
    .target(name: "CChecksum", cSettings: [.unsafeFlags(["-O2"], .when(configuration: .debug))]),

    // Layer 2: tensor engine (no geography, no MPI).
    // Optimised even in debug builds: the tests run real kernels (attention at T = 4096,
    // finite differences of whole networks) that are 20–50× slower unoptimised. On x86-64
    // the kernels use the vector instructions of `kernelISA`.
    .target(
      name: "TensorEngine", dependencies: ["CPUSupport", "COpenBLAS", "CLAPACKE", "CChecksum"],
      swiftSettings: [
        .unsafeFlags(["-O"], .when(configuration: .debug)), .unsafeFlags(kernelISA.compilerFlags),
      ]),

    // Layer 3: geo data.
    // Optimised in debug builds too: the tests generate landscapes and route flow over them.
    .target(
      name: "GeoData",
      dependencies: [
        "CGDAL", "CChecksum", "Configuration", "TensorEngine",
        .product(name: "HeapModule", package: "swift-collections"),
      ],
      swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),

    // Layer 3: ground-motion waveforms (filters, intensity measures, synthetic co-seismic
    // scenarios) for the full-waveform transformer. Optimised in debug builds too: the tests
    // generate and filter thousands of records.
    .target(
      name: "Waveform", dependencies: ["TensorEngine"],
      swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),

    // Layer 4: the papers' networks.
    .target(name: "Models", dependencies: ["TensorEngine"]),

    // Validated YAML configs shared by every job.
    .target(name: "Configuration", dependencies: [.product(name: "Yams", package: "Yams")]),

    // Layer 6: distributed execution over MPI.
    .target(name: "Distributed", dependencies: ["CMPI"]),

    // Metrics, tables and figures of predictions (atomic writes from the tensor engine).
    .target(name: "Evaluation", dependencies: ["TensorEngine"]),

    // Layer 7: training, checkpoints and inference of the ensemble and the full-waveform
    // transformer.
    .target(
      name: "Training",
      dependencies: [
        "TensorEngine", "GeoData", "Waveform", "Models", "Configuration", "Distributed",
        "Evaluation",
      ]),

    // Layer 7: the classical susceptibility models of SPEC.md §3 on pixel tables (trees,
    // forests, KNN, logistic regression, networks through the training loop), across
    // ranks. Optimised in debug builds too (the tests grow forests and search neighbours),
    // with the vector instructions of `kernelISA` as the engine's kernels.
    .target(
      name: "Classical",
      dependencies: [
        "TensorEngine", "GeoData", "Configuration", "Distributed", "Evaluation", "Training",
        "CXGBoost",
      ],
      swiftSettings: [
        .unsafeFlags(["-O"], .when(configuration: .debug)), .unsafeFlags(kernelISA.compilerFlags),
      ]),

    // Layer 7: the rainfall thresholds of SPEC.md §4 (seed 003): catalogues, daily series,
    // events, the synthetic country; its models build on Classical's.
    .target(
      name: "Rainfall",
      dependencies: ["TensorEngine", "GeoData", "Configuration", "Evaluation", "Classical"],
      swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),

    // Real study areas from raw inputs (`landslide study build`): grid, terrain, shaking,
    // rain statistics per period and the inventory; the rain reader is the rainfall layer's.
    .target(name: "StudyBuild", dependencies: ["GeoData", "Configuration", "Rainfall"]),

    // Layer 8: hyperparameter sweeps over groups of ranks, and the rainfall protocol's
    // fits over ranks, coordinated by rank 0.
    .target(
      name: "Sweep",
      dependencies: [
        "TensorEngine", "GeoData", "Configuration", "Distributed", "Training", "Classical",
        "Rainfall",
      ]),

    // Layer 9: the command line.
    .executableTarget(
      name: "landslide",
      dependencies: [
        "CPUSupport", "TensorEngine", "GeoData", "Waveform", "Models", "Configuration",
        "Distributed", "Evaluation", "Training", "Classical", "Rainfall", "StudyBuild", "Sweep",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),

    // Tests: one target per layer, plus the executable driven end to end (MPI included).
    .target(name: "TestSupport", dependencies: ["GeoData"], path: "Tests/TestSupport"),
    .testTarget(
      name: "TensorEngineTests", dependencies: ["CPUSupport", "TensorEngine", "TestSupport"],
      exclude: ["Fixtures"]),
    .testTarget(name: "GeoDataTests", dependencies: ["GeoData", "TensorEngine", "TestSupport"]),
    .testTarget(
      name: "ModelsTests", dependencies: ["Models", "TestSupport"], exclude: ["Fixtures"]),
    .testTarget(
      name: "TrainingTests",
      dependencies: [
        "Training", "Configuration", "GeoData", "Waveform", "Models", "TensorEngine", "TestSupport",
      ]),
    .testTarget(
      name: "ClassicalTests",
      dependencies: [
        "Classical", "Distributed", "Evaluation", "GeoData", "TensorEngine", "Training",
        "TestSupport",
      ], exclude: ["Fixtures"]),
    .testTarget(
      name: "RainfallTests", dependencies: ["Rainfall", "GeoData", "TestSupport"],
      exclude: ["Fixtures"]),
    .testTarget(
      name: "StudyBuildTests",
      dependencies: ["StudyBuild", "GeoData", "Configuration", "TestSupport"]),
    .testTarget(name: "SweepTests", dependencies: ["Sweep", "Configuration", "TestSupport"]),
    .testTarget(name: "ConfigurationTests", dependencies: ["Configuration", "TestSupport"]),
    .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "TestSupport"]),
    .testTarget(
      name: "WaveformTests", dependencies: ["Waveform", "TestSupport"], exclude: ["Fixtures"]),
    .testTarget(
      name: "CommandLineTests",
      dependencies: ["landslide", "CPUSupport", "GeoData", "TensorEngine", "TestSupport"]),
  ]
)
