/// A binary classifier over the rows of a `FeatureMatrix`, in scikit-learn's estimator
/// contract: construct with hyperparameters, `fit` on a table and its 0/1 labels, then
/// `predictProbability` gives P(label = 1) per row. Fitting again starts afresh.
public protocol Classifier: AnyObject {
  /// The model's name in tables, files and `--json` ("random_forest", "knn").
  var name: String { get }
  /// Fits on `x` with labels `y` (0 or 1, one per row).
  func fit(_ x: FeatureMatrix, _ y: [Float]) throws(ClassicalError)
  /// P(label = 1) for every row of `x`; throws before `fit`.
  func predictProbability(_ x: FeatureMatrix) throws(ClassicalError) -> [Float]
  /// The fitted model as arrays and hyperparameters, for `RUN/models/`.
  func stored() throws(ClassicalError) -> StoredModel
}

/// Checks shared by every `fit`: one label per row, labels 0 or 1, both classes present.
func checkTrainingTable(_ x: FeatureMatrix, _ y: [Float], model: String) throws(ClassicalError) {
  guard x.rows == y.count else {
    throw ClassicalError(model, "\(x.rows) rows but \(y.count) labels")
  }
  guard x.rows > 0 else { throw ClassicalError(model, "the training table has no rows") }
  var positives = 0
  for label in y {
    guard label == 0 || label == 1 else {
      throw ClassicalError(model, "label \(label); expected 0 or 1")
    }
    if label == 1 { positives += 1 }
  }
  guard positives > 0, positives < y.count else {
    throw ClassicalError(
      model,
      "all \(y.count) training rows are \(positives == 0 ? "non-landslide (0)" : "landslide (1)"); "
        + "a classifier needs both classes")
  }
}
