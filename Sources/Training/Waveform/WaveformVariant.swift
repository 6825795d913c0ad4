/// The model variants of the paper's comparison (SPEC.md §2): which ground-motion input the
/// transformer sees, and whether the static terrain and lithology covariates join it.
public enum WaveformVariant: String, CaseIterable, Codable, Sendable {
  /// The three-component waveform alone.
  case mod1
  /// Peak ground velocity alone.
  case mod2
  /// The waveform with the static covariates.
  case mod3
  /// Peak ground velocity with the static covariates.
  case mod4
  /// Arias intensity with the static covariates.
  case arias
  /// The waveform low-passed at 0.5 Hz (forward and backward) with the static covariates.
  case lowpass

  /// The ground-motion input.
  public enum Motion: Sendable {
    case waveform
    case lowPassedWaveform
    case peakGroundVelocity
    case ariasIntensity
  }

  public var motion: Motion {
    switch self {
    case .mod1, .mod3: .waveform
    case .lowpass: .lowPassedWaveform
    case .mod2, .mod4: .peakGroundVelocity
    case .arias: .ariasIntensity
    }
  }

  /// Whether the network reads the record itself (its encoder branch is on).
  public var readsWaveform: Bool { motion == .waveform || motion == .lowPassedWaveform }

  /// Whether the terrain and lithology covariates are inputs.
  public var usesStaticCovariates: Bool { self != .mod1 && self != .mod2 }

  /// How the variant is fed, for tables and logs.
  public var summary: String {
    switch self {
    case .mod1: "waveform"
    case .mod2: "PGV"
    case .mod3: "waveform + static"
    case .mod4: "PGV + static"
    case .arias: "Arias intensity + static"
    case .lowpass: "waveform low-passed + static"
    }
  }
}
