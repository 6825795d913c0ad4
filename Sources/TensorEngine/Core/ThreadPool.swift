import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// The engine's worker threads. Kernels split their work into one contiguous range per
/// thread; GEMMs are split the same way over single-threaded BLAS calls, so one pool owns
/// every core the rank may use and a step needs no allocation (OpenBLAS's own threading
/// allocates on every call). Workers spin briefly after a job, then sleep.
public final class ThreadPool: @unchecked Sendable {
  public static let shared = ThreadPool()

  /// Threads that run a parallel loop, the caller included. Set it once, before training
  /// (`landslide` sets it from `--threads`); ranks × threads should equal the cores.
  public var threadCount: Int {
    get { configuredThreads.load(ordering: .acquiring) }
    set {
      precondition(newValue >= 1, "threadCount \(newValue)")
      guard newValue != threadCount else { return }
      while !busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
        sched_yield()
      }
      configuredThreads.store(1, ordering: .releasing)
      stopWorkers()
      BLAS.threadCount = 1
      startWorkers(newValue - 1)
      configuredThreads.store(newValue, ordering: .releasing)
      busy.store(false, ordering: .releasing)
    }
  }

  /// Below this many units of work a loop runs on the calling thread alone (its parts one
  /// after another): waking a worker costs more than it saves. (Tests lower it to run
  /// every kernel on the workers.)
  public var minimumParallelWork: Int {
    get { minimumWork.load(ordering: .relaxed) }
    set { minimumWork.store(newValue, ordering: .relaxed) }
  }
  private let minimumWork = Atomic<Int>(1 << 15)

  private var workers: [pthread_t] = []
  /// `workers.count + 1`, readable from any thread while the workers are being replaced.
  private let configuredThreads = Atomic<Int>(1)
  private var mutex = pthread_mutex_t()
  private var wake = pthread_cond_t()
  /// Bumped for every job, so that a worker knows a new one arrived.
  private let generation = Atomic<Int>(0)
  private let pending = Atomic<Int>(0)
  /// Held by the one caller whose job the workers run; a second, concurrent caller (tests
  /// run in parallel) runs its job on its own thread instead of waiting.
  private let busy = Atomic<Bool>(false)
  private var stopping = false
  private var partCount = 0
  /// The running job: its address on the caller's stack and its type. (A closure cannot be
  /// handed to another thread without being copied to the heap; a job struct can.)
  private var job: UnsafeRawPointer?
  private var jobType: (any ParallelJob.Type)?

  private init() {
    pthread_mutex_init(&mutex, nil)
    pthread_cond_init(&wake, nil)
    BLAS.threadCount = 1
  }

  /// Runs `job` on 0..<count split into `threadCount` contiguous ranges, the first on the
  /// calling thread, and returns when all have finished. `work` (elements, flops; `count`
  /// by default) decides whether splitting pays.
  public func parallelFor<Job: ParallelJob>(_ count: Int, work: Int? = nil, _ job: Job) {
    // Too little work to wake the workers, or the pool taken (by another calling thread,
    // or by the setter of threadCount while it replaces them): the same parts run here one
    // after another. Kernels reduce per part, so a result depends on the thread count alone,
    // never on the work threshold or on whether the pool was free. The count is read once:
    // without the pool, nothing stops another thread from changing it meanwhile.
    let parts = threadCount
    guard parts > 1, (work ?? count) >= minimumParallelWork, count > 1,
      busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    else {
      for part in 0..<parts {
        let range = range(part, of: count, parts: parts)
        if !range.isEmpty { job.run(range) }
      }
      return
    }
    defer { busy.store(false, ordering: .releasing) }
    withUnsafePointer(to: job) { pointer in
      self.job = UnsafeRawPointer(pointer)
      jobType = Job.self
      partCount = count
      pending.store(workers.count, ordering: .releasing)
      pthread_mutex_lock(&mutex)
      generation.add(1, ordering: .releasing)
      pthread_cond_broadcast(&wake)
      pthread_mutex_unlock(&mutex)
      let first = range(0, of: count)
      if !first.isEmpty { pointer.pointee.run(first) }
      while pending.load(ordering: .acquiring) > 0 { sched_yield() }
      self.job = nil
      jobType = nil
    }
  }

  /// Part `part` of 0..<count.
  /// Part `part` of `parts` (by default the thread count, fixed while the pool is held).
  private func range(_ part: Int, of count: Int, parts: Int? = nil) -> Range<Int> {
    let parts = parts ?? threadCount
    return (count * part / parts)..<(count * (part + 1) / parts)
  }

  private func startWorkers(_ count: Int) {
    stopping = false
    // A worker starts from the generation current now, so that a job posted before its
    // thread gets going is still seen as new.
    let start = generation.load(ordering: .acquiring)
    for index in 0..<count {
      var thread = pthread_t()
      let argument = UnsafeMutablePointer<WorkerStart>.allocate(capacity: 1)
      argument.initialize(
        to: WorkerStart(
          pool: Unmanaged.passUnretained(self).toOpaque(), part: index + 1, generation: start))
      let created = pthread_create(
        &thread, nil,
        { raw in
          let argument = raw!.assumingMemoryBound(to: WorkerStart.self)
          let start = argument.move()
          argument.deallocate()
          Unmanaged<ThreadPool>.fromOpaque(start.pool).takeUnretainedValue()
            .workerLoop(part: start.part, seen: start.generation)
          return nil
        }, argument)
      precondition(created == 0, "pthread_create failed: \(created)")
      workers.append(thread)
    }
  }

  private struct WorkerStart {
    let pool: UnsafeMutableRawPointer
    let part: Int
    let generation: Int
  }

  private func stopWorkers() {
    guard !workers.isEmpty else { return }
    pthread_mutex_lock(&mutex)
    stopping = true
    generation.add(1, ordering: .releasing)
    pthread_cond_broadcast(&wake)
    pthread_mutex_unlock(&mutex)
    for thread in workers { pthread_join(thread, nil) }
    workers.removeAll()
  }

  private func workerLoop(part: Int, seen start: Int) {
    var seen = start
    while true {
      // Spin a little: jobs come in quick succession during a step.
      var spins = 0
      while generation.load(ordering: .acquiring) == seen && spins < 20_000 {
        spins += 1
      }
      if generation.load(ordering: .acquiring) == seen {
        pthread_mutex_lock(&mutex)
        while generation.load(ordering: .acquiring) == seen { pthread_cond_wait(&wake, &mutex) }
        pthread_mutex_unlock(&mutex)
      }
      seen = generation.load(ordering: .acquiring)
      if stopping { return }
      let range = range(part, of: partCount)
      if !range.isEmpty { jobType!.run(at: job!, range) }
      pending.subtract(1, ordering: .releasing)
    }
  }
}

/// Work that `ThreadPool.parallelFor` can split: a struct holding what the kernel needs
/// (pointers, sizes), run on one contiguous range of indexes per thread.
public protocol ParallelJob {
  func run(_ range: Range<Int>)
}

extension ParallelJob {
  /// Runs the job stored at `pointer` (type-erased through the metatype, no allocation).
  static func run(at pointer: UnsafeRawPointer, _ range: Range<Int>) {
    pointer.assumingMemoryBound(to: Self.self).pointee.run(range)
  }
}
