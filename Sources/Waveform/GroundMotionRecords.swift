import TensorEngine

/// Three-component ground-motion velocity records of many sites, all of one length and
/// sample rate: the dynamic input of the full-waveform transformer (SPEC.md §2). Stored as
/// [sites, samples, 3] — a time step's E–W, N–S and U–D values side by side, the layout the
/// transformer reads (tokens are time steps, features are components).
public struct GroundMotionRecords: Equatable, Sendable {
  /// The component axis, in order.
  public static let components = ["E–W", "N–S", "U–D"]

  public let sites: Int
  public let samples: Int
  /// Samples per second; a `.npy` file does not carry it.
  public let sampleRate: Double
  /// Velocities in m/s, [sites, samples, 3] row-major.
  public var values: [Float]

  public init(sites: Int, samples: Int, sampleRate: Double, values: [Float]) {
    precondition(
      values.count == sites * samples * 3,
      "\(values.count) values for [\(sites), \(samples), 3] records")
    precondition(sampleRate > 0, "sample rate \(sampleRate) Hz")
    self.sites = sites
    self.samples = samples
    self.sampleRate = sampleRate
    self.values = values
  }

  /// Reads records from a `.npy` file in either layout: ours, [sites, samples, 3], or the
  /// paper's code's [sites, 3, samples] (transposed on reading). The layout is told from
  /// the shape; when both middle axes are 3 it is ours.
  public static func read(path: String, sampleRate: Double) throws(NumPyError)
    -> GroundMotionRecords
  {
    let array = try NumPyArray.read(path: path)
    let shape = array.shape
    guard shape.count == 3, shape[1] == 3 || shape[2] == 3 else {
      throw NumPyError(
        path: path,
        message:
          "shape \(shape) is not a set of 3-component records; expected [sites, samples, 3] or the paper's [sites, 3, samples]"
      )
    }
    let sites = shape[0]
    if shape[2] == 3 {
      return GroundMotionRecords(
        sites: sites, samples: shape[1], sampleRate: sampleRate, values: array.values)
    }
    let samples = shape[2]
    var values = [Float](repeating: 0, count: array.values.count)
    array.values.withUnsafeBufferPointer { source in
      values.withUnsafeMutableBufferPointer { target in
        for site in 0..<sites {
          let (from, to) = (source.baseAddress! + site * 3 * samples, site * samples * 3)
          for component in 0..<3 {
            let row = from + component * samples
            for t in 0..<samples { target[to + t * 3 + component] = row[t] }
          }
        }
      }
    }
    return GroundMotionRecords(
      sites: sites, samples: samples, sampleRate: sampleRate, values: values)
  }

  /// Writes the records as [sites, samples, 3] '<f4'.
  public func write(to path: String) throws(NumPyError) {
    try NumPyArray(shape: [sites, samples, 3], values: values).write(to: path)
  }

  /// Every component of every site filtered forward and backward by `filter` (the paper's
  /// 0.5 Hz low-pass variant); `samples` must exceed the filter's padding.
  public func lowPassed(_ filter: ButterworthLowPass) -> GroundMotionRecords {
    precondition(
      filter.sampleRate == sampleRate,
      "a filter designed for \(filter.sampleRate) Hz applied to records at \(sampleRate) Hz")
    var result = self
    var scratch = [Double](repeating: 0, count: samples + 2 * filter.padding)
    result.values.withUnsafeMutableBufferPointer { records in
      scratch.withUnsafeMutableBufferPointer { work in
        for site in 0..<sites {
          for component in 0..<3 {
            let start = records.baseAddress! + site * samples * 3 + component
            filter.filtfilt(
              start, stride: 3, count: samples, into: start, stride: 3, scratch: work)
          }
        }
      }
    }
    return result
  }
}
