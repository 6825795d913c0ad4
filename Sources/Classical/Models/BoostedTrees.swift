import CXGBoost
import Foundation
import TensorEngine

/// Gradient-boosted trees by XGBoost itself, through its C API (Debian's libxgboost):
/// scikit-learn's `XGBClassifier` with the binary logistic objective and the `hist` tree
/// method. `grow_policy: lossguide` with `max_leaves` grows trees leaf-wise on histograms,
/// as LightGBM does (LightGBM itself has no Debian package). Predictions are XGBoost's,
/// and so are the feature contributions (its TreeSHAP), so explanations match the model
/// exactly.
public final class BoostedTrees: Classifier {
  public struct Settings: Codable, Equatable, Sendable {
    /// Boosting rounds (n_estimators).
    public var trees = 100
    /// 0: unlimited (lossguide only).
    public var maxDepth = 6
    public var learningRate = 0.3
    public var subsample = 1.0
    public var columnSample = 1.0
    public var minChildWeight = 1.0
    /// L2 regularisation of leaf weights (reg_lambda).
    public var lambda = 1.0
    public var maxBin = 256
    public var growPolicy = GrowPolicy.depthwise
    /// Leaves per tree with lossguide (0: no limit).
    public var maxLeaves = 0
    public var seed: UInt64 = 0
    /// XGBoost's threads; 0: the engine's thread count.
    public var threads = 0

    public enum GrowPolicy: String, Codable, Sendable {
      /// Level by level (XGBoost's default).
      case depthwise
      /// The leaf with the largest loss reduction first (LightGBM's way).
      case lossguide
    }

    public init() {}

    enum CodingKeys: String, CodingKey {
      case trees = "n_estimators"
      case maxDepth = "max_depth"
      case learningRate = "learning_rate"
      case subsample
      case columnSample = "colsample_bytree"
      case minChildWeight = "min_child_weight"
      case lambda = "reg_lambda"
      case maxBin = "max_bin"
      case growPolicy = "grow_policy"
      case maxLeaves = "max_leaves"
      case seed = "random_state"
      case threads = "n_jobs"
    }

    /// XGBoost's own parameter names and values.
    var parameters: [(String, String)] {
      [
        ("objective", "binary:logistic"), ("tree_method", "hist"), ("max_depth", "\(maxDepth)"),
        ("eta", "\(learningRate)"), ("subsample", "\(subsample)"),
        ("colsample_bytree", "\(columnSample)"), ("min_child_weight", "\(minChildWeight)"),
        ("lambda", "\(lambda)"), ("max_bin", "\(maxBin)"), ("grow_policy", growPolicy.rawValue),
        ("max_leaves", "\(maxLeaves)"), ("seed", "\(seed)"), ("nthread", "\(threadCount)"),
        ("verbosity", "0"),
      ]
    }

    var threadCount: Int { threads > 0 ? threads : ThreadPool.shared.threadCount }
  }

  public let name: String
  public private(set) var settings: Settings
  private var booster: BoosterHandle?
  private var columns = 0

  /// - Parameter name: how tables and files name it ("xgboost", or "lightgbm" for the
  ///   leaf-wise configuration).
  public init(settings: Settings = Settings(), name: String = "xgboost") {
    self.settings = settings
    self.name = name
  }

  deinit { if let booster { XGBoosterFree(booster) } }

  /// XGBoost's version, for reports.
  public static var version: String {
    var (major, minor, patch): (Int32, Int32, Int32) = (0, 0, 0)
    XGBoostVersion(&major, &minor, &patch)
    return "\(major).\(minor).\(patch)"
  }

  public func fit(_ x: FeatureMatrix, _ y: [Float]) throws(ClassicalError) {
    try checkTrainingTable(x, y, model: name)
    let matrix = try Matrix(x, labels: y, model: name)
    if let booster { XGBoosterFree(booster) }
    booster = nil
    var handle: BoosterHandle?
    var handles: [DMatrixHandle?] = [matrix.handle]
    try check(XGBoosterCreate(&handles, 1, &handle), "creating the booster")
    booster = handle
    for (key, value) in settings.parameters {
      try check(XGBoosterSetParam(handle, key, value), "setting \(key) = \(value)")
    }
    for round in 0..<settings.trees {
      try check(XGBoosterUpdateOneIter(handle, Int32(round), matrix.handle), "round \(round + 1)")
    }
    columns = x.columns
  }

  public func predictProbability(_ x: FeatureMatrix) throws(ClassicalError) -> [Float] {
    try predict(x, type: 0).values
  }

  /// The log-odds XGBoost adds up (the margin), per row.
  public func margin(_ x: FeatureMatrix) throws(ClassicalError) -> [Float] {
    try predict(x, type: 1).values
  }

  /// Each feature's SHAP value per row (TreeSHAP, XGBoost's `pred_contribs`): `rows ×
  /// (columns + 1)`, the last column the bias; a row's values add up to its margin.
  public func contributions(_ x: FeatureMatrix) throws(ClassicalError) -> FeatureMatrix {
    let values = try predict(x, type: 2).values
    return FeatureMatrix(rows: x.rows, columns: x.columns + 1, values: values)
  }

  /// XGBoost's prediction of `type` (0 probability, 1 margin, 2 contributions).
  private func predict(_ x: FeatureMatrix, type: Int) throws(ClassicalError) -> (
    values: [Float], shape: [UInt64]
  ) {
    guard let booster else { throw ClassicalError(name, "predict before fit") }
    guard x.columns == columns else {
      throw ClassicalError(name, "fitted on \(columns) columns, asked about \(x.columns)")
    }
    let matrix = try Matrix(x, labels: nil, model: name)
    let configuration =
      "{\"type\": \(type), \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, "
      + "\"strict_shape\": false}"
    var shape: UnsafePointer<bst_ulong>?
    var dimensions: bst_ulong = 0
    var result: UnsafePointer<Float>?
    try check(
      XGBoosterPredictFromDMatrix(
        booster, matrix.handle, configuration, &shape, &dimensions, &result),
      "predicting")
    let sizes = (0..<Int(dimensions)).map { shape![$0] }
    let count = Int(sizes.reduce(1, *))
    return (Array(UnsafeBufferPointer(start: result, count: count)), sizes)
  }

  /// The settings and XGBoost's JSON model.
  public func stored() throws(ClassicalError) -> StoredModel {
    guard let booster else { throw ClassicalError(name, "store before fit") }
    var length: bst_ulong = 0
    var bytes: UnsafePointer<CChar>?
    try check(
      XGBoosterSaveModelToBuffer(booster, "{\"format\": \"json\"}", &length, &bytes),
      "saving the model")
    let json = String(
      decoding: UnsafeRawBufferPointer(start: bytes, count: Int(length)), as: UTF8.self)
    return StoredModel(
      kind: "boosted_trees",
      settings: Stored(settings: settings, name: name, columns: columns, booster: json))
  }

  struct Stored: Codable {
    var settings: Settings
    var name: String
    var columns: Int
    /// XGBoost's JSON model, as `Booster.save_model("model.json")` writes it.
    var booster: String
  }

  public convenience init(stored: StoredModel) throws(ClassicalError) {
    let record = try stored.decodeSettings(Stored.self)
    self.init(settings: record.settings, name: record.name)
    try load(json: record.booster, columns: record.columns)
  }

  /// Takes XGBoost's JSON model (Python's `Booster.save_model("m.json")`) as the fitted
  /// model, for `columns` features.
  public func load(json: String, columns: Int) throws(ClassicalError) {
    var handle: BoosterHandle?
    try check(XGBoosterCreate(nil, 0, &handle), "creating the booster")
    if let booster { XGBoosterFree(booster) }
    booster = handle
    let bytes = Array(json.utf8)
    try check(
      bytes.withUnsafeBytes {
        XGBoosterLoadModelFromBuffer(handle, $0.baseAddress, bst_ulong($0.count))
      },
      "loading the model")
    try check(XGBoosterSetParam(handle, "nthread", "\(settings.threadCount)"), "setting nthread")
    self.columns = columns
  }

  private func check(_ status: Int32, _ what: String) throws(ClassicalError) {
    try Self.check(status, what, model: name)
  }

  static func check(_ status: Int32, _ what: String, model: String) throws(ClassicalError) {
    guard status != 0 else { return }
    throw ClassicalError(model, "XGBoost, \(what): \(String(cString: XGBGetLastError()))")
  }

  /// A DMatrix over a feature matrix (NaN missing), freed with this value.
  private final class Matrix {
    let handle: DMatrixHandle?

    init(_ x: FeatureMatrix, labels: [Float]?, model: String) throws(ClassicalError) {
      var handle: DMatrixHandle?
      let status = x.values.withUnsafeBufferPointer {
        XGDMatrixCreateFromMat(
          $0.baseAddress, bst_ulong(x.rows), bst_ulong(x.columns), .nan, &handle)
      }
      self.handle = handle
      try BoostedTrees.check(status, "building the matrix", model: model)
      if let labels {
        try BoostedTrees.check(
          XGDMatrixSetFloatInfo(handle, "label", labels, bst_ulong(labels.count)), "labels",
          model: model)
      }
    }

    deinit { if let handle { XGDMatrixFree(handle) } }
  }
}
