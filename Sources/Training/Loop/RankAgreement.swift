import Distributed
import TensorEngine

/// What the ranks of one training decide together: whether every rank's loss is finite,
/// whether any rank was asked to stop, sums of per-rank values, and whether rank 0's writes
/// worked. Each answer reaches every rank, so all ranks stop at the same point and none is
/// left waiting in a collective for one that gave up.
public struct RankAgreement {
  public let communicator: Communicator?
  public var rank: Int { communicator?.rank ?? 0 }
  public var ranks: Int { communicator?.size ?? 1 }

  public init(communicator: Communicator?) { self.communicator = communicator }

  /// Runs `write` on rank 0 and tells every rank whether it worked: a write that fails
  /// (a full disk, a file where a folder should be) ends training on all ranks alike.
  func onRankZero(_ write: () throws(TrainingError) -> Void) throws(TrainingError) {
    var failure: TrainingError?
    if rank == 0 {
      do { try write() } catch { failure = error }
    }
    guard let communicator else {
      if let failure { throw failure }
      return
    }
    var failed: [Int32] = [failure == nil ? 0 : 1]
    do { try communicator.broadcast(&failed) } catch { throw TrainingError(error.description) }
    guard failed[0] == 0 else {
      throw (failure ?? TrainingError("rank 0 could not write training output (its log says why)"))
        .onEveryRank()
    }
  }

  /// Whether every rank's `value` is finite.
  func allFinite(_ value: Double) throws(TrainingError) -> Bool {
    try largest(value.isFinite ? 0 : 1) == 0
  }

  /// Whether SIGTERM or SIGUSR1 reached any rank.
  public func stopRequested() throws(TrainingError) -> Bool {
    try largest(StopRequest.isPending ? 1 : 0) != 0
  }

  /// The sum of the ranks' `value`s.
  public func sum(_ value: Double) throws(TrainingError) -> Double {
    guard let communicator else { return value }
    var values = [value]
    do { try communicator.allReduce(&values, .sum) } catch {
      throw TrainingError(error.description)
    }
    return values[0]
  }

  /// Element-wise sums of the ranks' `values`: each rank fills its slots, the rest zero.
  public func sum(_ values: inout [Float]) throws(TrainingError) {
    guard let communicator else { return }
    do { try communicator.allReduce(&values, .sum) } catch {
      throw TrainingError(error.description)
    }
  }

  private func largest(_ flag: Int32) throws(TrainingError) -> Int32 {
    guard let communicator else { return flag }
    var flags = [flag]
    do { try communicator.allReduce(&flags, .max) } catch { throw TrainingError(error.description) }
    return flags[0]
  }

  /// The tensors' values one after another: a rank's row of per-rank state in a checkpoint.
  static func flatten(_ tensors: [Tensor]) -> [Float] {
    var values: [Float] = []
    values.reserveCapacity(tensors.reduce(0) { $0 + $1.count })
    for tensor in tensors { values += tensor.buffer }
    return values
  }

  /// Copies this rank's row of a [ranks, n] checkpoint tensor into `tensors`, when the
  /// checkpoint was written by as many ranks as run now (otherwise rank 0's values, already
  /// loaded, stand).
  func loadRow(_ file: SafeTensorsFile, _ name: String, into tensors: [Tensor])
    throws(SafeTensorsError)
  {
    guard let info = file.tensors[name], info.shape.count == 2, info.shape[0] == ranks else {
      return
    }
    let row = try file.floats(name).baseAddress! + rank * info.shape[1]
    var offset = 0
    for tensor in tensors where offset + tensor.count <= info.shape[1] {
      tensor.data.update(from: row + offset, count: tensor.count)
      offset += tensor.count
    }
  }
}
