import CMPI

#if canImport(Glibc)
  import Glibc
#endif

/// An MPI call that returned an error code, with MPI's own text for it.
public struct MPIError: Error, CustomStringConvertible {
  public let call: String
  public let code: Int32
  public let message: String

  public var description: String { "\(call) failed (MPI error \(code)): \(message)" }
}

/// Element types that cross MPI collectives.
public protocol MPIScalar {
  static var mpiDatatype: MPI_Datatype { get }
}

extension Float: MPIScalar { public static var mpiDatatype: MPI_Datatype { cmpi_float() } }
extension Double: MPIScalar { public static var mpiDatatype: MPI_Datatype { cmpi_double() } }
extension Int32: MPIScalar { public static var mpiDatatype: MPI_Datatype { cmpi_int32() } }
extension Int64: MPIScalar { public static var mpiDatatype: MPI_Datatype { cmpi_int64() } }
extension UInt8: MPIScalar { public static var mpiDatatype: MPI_Datatype { cmpi_uint8() } }

/// The element-wise reduction an all-reduce applies.
public enum ReductionOperation: Sendable {
  case sum, max, min

  var mpiOp: MPI_Op {
    switch self {
    case .sum: return cmpi_op_sum()
    case .max: return cmpi_op_max()
    case .min: return cmpi_op_min()
    }
  }
}

/// Turns an MPI return code into a thrown `MPIError`.
@inline(__always)
func check(_ code: Int32, _ call: @autoclosure () -> String) throws(MPIError) {
  guard code != MPI_SUCCESS else { return }
  var text = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
  var length: Int32 = 0
  MPI_Error_string(code, &text, &length)
  throw MPIError(call: call(), code: code, message: String(nulTerminated: text))
}

/// A group of ranks that run collectives together (MPI_COMM_WORLD or a split of it).
/// Errors come back as thrown `MPIError`s rather than MPI's default abort, so that the
/// caller can report which rank failed and why.
public final class Communicator: @unchecked Sendable {
  let handle: MPI_Comm
  public let rank: Int
  public let size: Int

  init(handle: MPI_Comm) throws(MPIError) {
    self.handle = handle
    var rank: Int32 = 0
    var size: Int32 = 0
    try check(MPI_Comm_set_errhandler(handle, cmpi_errors_return()), "MPI_Comm_set_errhandler")
    try check(MPI_Comm_rank(handle, &rank), "MPI_Comm_rank")
    try check(MPI_Comm_size(handle, &size), "MPI_Comm_size")
    self.rank = Int(rank)
    self.size = Int(size)
  }

  /// Combines `buffer` element-wise across all ranks; every rank receives the result in place.
  public func allReduce<T: MPIScalar>(
    _ buffer: UnsafeMutableBufferPointer<T>, _ operation: ReductionOperation
  ) throws(MPIError) {
    try check(
      MPI_Allreduce(
        cmpi_in_place(), buffer.baseAddress, Int32(buffer.count), T.mpiDatatype,
        operation.mpiOp, handle),
      "MPI_Allreduce of \(buffer.count) elements on rank \(rank)")
  }

  /// Starts combining `buffer` element-wise across all ranks (MPI_Iallreduce, in place) and
  /// returns at once; the buffer must stay untouched until the reduction completes. Every
  /// rank starts its reductions on this communicator in the same order.
  public func startAllReduce<T: MPIScalar>(
    _ buffer: UnsafeMutableBufferPointer<T>, _ operation: ReductionOperation
  ) throws(MPIError) -> PendingReduction {
    var request = cmpi_request_null()
    try check(
      MPI_Iallreduce(
        cmpi_in_place(), buffer.baseAddress, Int32(buffer.count), T.mpiDatatype,
        operation.mpiOp, handle, &request),
      "MPI_Iallreduce of \(buffer.count) elements on rank \(rank)")
    return PendingReduction(request: request, count: buffer.count, rank: rank)
  }

  /// Array convenience for `allReduce(_:_:)`.
  public func allReduce<T: MPIScalar>(_ values: inout [T], _ operation: ReductionOperation)
    throws(MPIError)
  {
    try values.withUnsafeMutableBufferPointer { (buffer) throws(MPIError) in
      try allReduce(buffer, operation)
    }
  }

  /// Copies `root`'s buffer into every other rank's buffer of the same length.
  public func broadcast<T: MPIScalar>(_ buffer: UnsafeMutableBufferPointer<T>, root: Int = 0)
    throws(MPIError)
  {
    try check(
      MPI_Bcast(buffer.baseAddress, Int32(buffer.count), T.mpiDatatype, Int32(root), handle),
      "MPI_Bcast of \(buffer.count) elements from rank \(root) on rank \(rank)")
  }

  /// Array convenience for `broadcast(_:root:)`.
  public func broadcast<T: MPIScalar>(_ values: inout [T], root: Int = 0) throws(MPIError) {
    try values.withUnsafeMutableBufferPointer { (buffer) throws(MPIError) in
      try broadcast(buffer, root: root)
    }
  }

  /// Returns once every rank has called it.
  public func barrier() throws(MPIError) {
    try check(MPI_Barrier(handle), "MPI_Barrier on rank \(rank)")
  }

  /// Collects every rank's `values` (the same count on each) on `root`, in rank order;
  /// other ranks receive an empty array.
  public func gather<T: MPIScalar & Numeric>(_ values: [T], root: Int = 0) throws(MPIError) -> [T] {
    var result = [T](repeating: 0, count: rank == root ? values.count * size : 0)
    let count = Int32(values.count)
    let code = values.withUnsafeBufferPointer { send in
      result.withUnsafeMutableBufferPointer { receive in
        MPI_Gather(
          send.baseAddress, count, T.mpiDatatype, receive.baseAddress, count, T.mpiDatatype,
          Int32(root), handle)
      }
    }
    try check(code, "MPI_Gather of \(values.count) elements to rank \(root) on rank \(rank)")
    return result
  }

  /// Every rank's `values` (the same count on each) concatenated in rank order, on every
  /// rank.
  public func allGather<T: MPIScalar & Numeric>(_ values: [T]) throws(MPIError) -> [T] {
    var result = [T](repeating: 0, count: values.count * size)
    let count = Int32(values.count)
    let code = values.withUnsafeBufferPointer { send in
      result.withUnsafeMutableBufferPointer { receive in
        MPI_Allgather(
          send.baseAddress, count, T.mpiDatatype, receive.baseAddress, count, T.mpiDatatype,
          handle)
      }
    }
    try check(code, "MPI_Allgather of \(values.count) elements on rank \(rank)")
    return result
  }

  /// Sends `values` to rank `destination` with `tag` (blocking until the buffer is reusable).
  public func send<T: MPIScalar>(_ values: [T], to destination: Int, tag: Int) throws(MPIError) {
    let code = values.withUnsafeBufferPointer { buffer in
      MPI_Send(
        buffer.baseAddress, Int32(buffer.count), T.mpiDatatype, Int32(destination), Int32(tag),
        handle)
    }
    try check(code, "MPI_Send of \(values.count) elements to rank \(destination) on rank \(rank)")
  }

  /// Receives `count` values with `tag` from rank `source` (nil: any rank); returns them
  /// and the sender's rank.
  public func receive<T: MPIScalar & Numeric>(count: Int, from source: Int? = nil, tag: Int)
    throws(MPIError) -> (values: [T], source: Int)
  {
    var values = [T](repeating: 0, count: count)
    var status = MPI_Status()
    let code = values.withUnsafeMutableBufferPointer { buffer in
      MPI_Recv(
        buffer.baseAddress, Int32(count), T.mpiDatatype,
        Int32(source ?? Int(cmpi_any_source())), Int32(tag), handle, &status)
    }
    try check(code, "MPI_Recv of \(count) elements on rank \(rank)")
    return (values, Int(status.MPI_SOURCE))
  }

  /// Whether a message with `tag` from any rank is waiting, without receiving it: lets a
  /// coordinating thread sleep between polls instead of spinning inside MPI_Recv.
  public func hasMessage(tag: Int) throws(MPIError) -> Bool {
    var flag: Int32 = 0
    var status = MPI_Status()
    try check(
      MPI_Iprobe(cmpi_any_source(), Int32(tag), handle, &flag, &status),
      "MPI_Iprobe on rank \(rank)")
    return flag != 0
  }

  /// Splits the ranks into sub-communicators, one per `color`, ordered by `key`; nil for a
  /// rank whose color is nil (it joins none).
  public func split(color: Int?, key: Int) throws(MPIError) -> Communicator? {
    var newHandle: MPI_Comm? = cmpi_comm_null()
    try check(
      MPI_Comm_split(handle, Int32(color ?? Int(cmpi_undefined())), Int32(key), &newHandle),
      "MPI_Comm_split on rank \(rank)")
    guard let newHandle, newHandle != cmpi_comm_null() else { return nil }
    return try Communicator(handle: newHandle)
  }

  /// Ends every process of this communicator's job with `code`: the way out when one rank
  /// fails, so that no other rank waits forever in a collective.
  public func abort(code: Int32) -> Never {
    MPI_Abort(handle, code)
    exit(code)
  }
}

/// A non-blocking all-reduce under way. `isComplete` also moves MPI's progress engine on,
/// which, without a progress thread, is what lets the transfer advance between compute.
public struct PendingReduction {
  private var request: MPI_Request?
  private let count: Int
  private let rank: Int

  init(request: MPI_Request?, count: Int, rank: Int) {
    self.request = request
    self.count = count
    self.rank = rank
  }

  /// A reduction that needs no waiting for (MPI_REQUEST_NULL).
  public static var completed: PendingReduction {
    PendingReduction(request: cmpi_request_null(), count: 0, rank: -1)
  }

  /// Whether the result is in the buffer (MPI_Test).
  public mutating func isComplete() throws(MPIError) -> Bool {
    guard request != cmpi_request_null() else { return true }
    var flag: Int32 = 0
    try check(MPI_Test(&request, &flag, nil), "MPI_Test of an all-reduce on rank \(rank)")
    return flag != 0
  }

  /// Blocks until the result is in the buffer (MPI_Wait).
  public mutating func wait() throws(MPIError) {
    guard request != cmpi_request_null() else { return }
    try check(
      MPI_Wait(&request, nil), "MPI_Wait of an all-reduce of \(count) elements on rank \(rank)")
  }
}

extension String {
  /// Decodes a C character buffer that MPI filled, up to its NUL terminator.
  init(nulTerminated buffer: [CChar]) {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    self = String(decoding: bytes, as: UTF8.self)
  }
}
