import Classical
import Configuration

/// The seed's models from a grid point: XGBoost (depth-wise boosted trees), LightGBM's
/// leaf-wise growth (XGBoost's `hist` + `lossguide`, since LightGBM has no Debian package),
/// random forest and logistic regression, with scikit-learn's, XGBoost's and LightGBM's
/// hyperparameter names.
enum ThresholdModels {
  /// A fresh model for `point`, and whether it reads categorical statics one-hot (the
  /// linear model) or as codes (trees).
  /// `threads`: XGBoost's own (0: the engine's thread count); fits that run side by side
  /// take one each.
  static func make(
    _ model: String, _ point: [(key: String, value: SweepValue)], seed: UInt64, threads: Int = 0
  ) throws(RainfallError) -> (classifier: any Classifier, oneHot: Bool) {
    func number(_ key: String) throws(RainfallError) -> Double? {
      guard let value = point.first(where: { $0.key == key })?.value else { return nil }
      switch value {
      case .integer(let v): return Double(v)
      case .number(let v): return v
      default:
        throw RainfallError("training.models.\(model).\(key)", "expected a number, found \(value)")
      }
    }
    func text(_ key: String) -> String? {
      point.first { $0.key == key }.map { $0.value.yaml }
    }
    func whole(_ key: String) throws(RainfallError) -> Int? {
      guard let value = try number(key) else { return nil }
      guard value == value.rounded(), value >= 0 else {
        throw RainfallError(
          "training.models.\(model).\(key)", "expected a whole number, found \(value)")
      }
      return Int(value)
    }
    switch model {
    case "xgboost", "lightgbm":
      var s = BoostedTrees.Settings()
      s.trees = try whole("n_estimators") ?? s.trees
      s.maxDepth = try whole("max_depth") ?? s.maxDepth
      s.learningRate = try number("learning_rate") ?? s.learningRate
      s.subsample = try number("subsample") ?? s.subsample
      s.columnSample = try number("colsample_bytree") ?? s.columnSample
      s.minChildWeight = try number("min_child_weight") ?? s.minChildWeight
      s.lambda = try number("reg_lambda") ?? s.lambda
      s.maxBin = try whole("max_bin") ?? s.maxBin
      s.seed = seed
      s.threads = threads
      if model == "lightgbm" {
        s.growPolicy = .lossguide
        s.maxLeaves = try whole("num_leaves") ?? 31
      }
      return (BoostedTrees(settings: s, name: model), false)
    case "random_forest":
      var s = RandomForest.Settings()
      s.trees = try whole("n_estimators") ?? s.trees
      s.maxDepth = try whole("max_depth") ?? s.maxDepth
      s.minSamplesSplit = try whole("min_samples_split") ?? s.minSamplesSplit
      s.minSamplesLeaf = try whole("min_samples_leaf") ?? s.minSamplesLeaf
      switch text("max_features") {
      case nil: break
      case "sqrt": s.maxFeatures = .sqrt
      case "log2": s.maxFeatures = .log2
      case "all", "None", "none": s.maxFeatures = .all
      case let other?:
        throw RainfallError(
          "training.models.random_forest.max_features", "expected sqrt, log2 or all, found \(other)"
        )
      }
      s.seed = seed
      return (RandomForest(settings: s), false)
    case "logistic_regression":
      var s = LogisticRegression.Settings()
      s.c = try number("C") ?? s.c
      if let penalty = text("penalty") {
        guard let known = LogisticRegression.Penalty(rawValue: penalty) else {
          throw RainfallError(
            "training.models.logistic_regression.penalty",
            "expected none, l1, l2 or elasticnet, found \(penalty)")
        }
        s.penalty = known
        if known == .elasticnet { s.l1Ratio = 0.5 }
      }
      s.l1Ratio = try number("l1_ratio") ?? s.l1Ratio
      s.maxIterations = try whole("max_iter") ?? s.maxIterations
      return (LogisticRegression(settings: s), true)
    default:
      throw RainfallError("training.models.\(model)", "unknown model")
    }
  }
}
