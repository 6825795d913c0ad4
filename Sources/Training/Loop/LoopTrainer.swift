/// A trainer built on the one `TrainingLoop`: where it checkpoints, the config it is
/// bound to, its epoch records and newest checkpoint are the loop's.
public protocol LoopTrainer: AnyObject {
  var loop: TrainingLoop { get }
}

extension LoopTrainer {
  public var records: [EpochRecord] { loop.records }
  /// Where rank 0 writes `step-NNNNNNNN.safetensors` (the newest `keep_checkpoints` kept)
  /// and `best.safetensors`; nil: nowhere.
  public var checkpointDirectory: String? {
    get { loop.checkpointDirectory }
    set { loop.checkpointDirectory = newValue }
  }
  /// Identifies the config; a checkpoint made with another is refused on resume.
  public var configHash: String {
    get { loop.configHash }
    set { loop.configHash = newValue }
  }
  /// The newest checkpoint this run wrote.
  public var latestCheckpoint: String? { loop.latestCheckpoint }
}
