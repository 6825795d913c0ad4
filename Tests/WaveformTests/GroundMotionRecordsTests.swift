import Foundation
import TensorEngine
import TestSupport
import Testing
import Waveform

@Suite struct GroundMotionRecordsTests {
  /// 2 sites × 5 samples × 3 components, value 100·site + 10·t + component, so every
  /// element names its own position.
  static let records: GroundMotionRecords = {
    let values = (0..<30).map { i -> Float in
      let (site, t, component) = (i / 15, i % 15 / 3, i % 3)
      return Float(100 * site + 10 * t + component)
    }
    return GroundMotionRecords(sites: 2, samples: 5, sampleRate: 20, values: values)
  }()

  @Test func readsOurLayout() throws {
    let directory = try TestPaths.temporaryDirectory()
    let path = directory.appendingPathComponent("series.npy").path
    try Self.records.write(to: path)
    #expect(try NumPyArray.read(path: path).shape == [2, 5, 3])
    #expect(try GroundMotionRecords.read(path: path, sampleRate: 20) == Self.records)
  }

  /// The paper's code stores [sites, 3, samples]: each component's whole trace in a row.
  @Test func readsThePapersLayoutTransposed() throws {
    let directory = try TestPaths.temporaryDirectory()
    let path = directory.appendingPathComponent("paper.npy").path
    var transposed: [Float] = []
    for site in 0..<2 {
      for component in 0..<3 {
        transposed += (0..<5).map { Float(100 * site + 10 * $0 + component) }
      }
    }
    try NumPyArray(shape: [2, 3, 5], values: transposed).write(to: path)
    #expect(try GroundMotionRecords.read(path: path, sampleRate: 20) == Self.records)
  }

  @Test func otherShapesAreRejectedByName() throws {
    let directory = try TestPaths.temporaryDirectory()
    for shape in [[2, 5, 4], [10, 3], [1, 2, 5, 3]] {
      let path = directory.appendingPathComponent("bad.npy").path
      try NumPyArray(shape: shape, values: [Float](repeating: 0, count: shape.reduce(1, *)))
        .write(to: path)
      let error = #expect(throws: NumPyError.self) {
        try GroundMotionRecords.read(path: path, sampleRate: 20)
      }
      #expect(
        error?.description
          == "\(path): shape \(shape) is not a set of 3-component records; expected [sites, samples, 3] or the paper's [sites, 3, samples]"
      )
    }
  }
}
