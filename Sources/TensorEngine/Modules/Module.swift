/// A layer or a network: parameters, running statistics and child modules, found from its
/// stored properties so that every tensor has a stable dotted name such as
/// `stages.2.1.conv2.weight` (arrays, and arrays of arrays, contribute their indexes).
///
/// Tensors that require gradients are trainable parameters; other tensor properties
/// (batch-norm running averages) are state that checkpoints keep but optimisers skip.
open class Module {
  /// Training mode: batch norm uses batch statistics and dropout drops. Set with `train(_:)`.
  public private(set) var isTraining = true

  public init() {}

  /// Puts this module and every descendant in training (true) or inference (false) mode.
  public func train(_ training: Bool) {
    forEachModule { $0.isTraining = training }
  }

  /// Trainable parameters by name, in declaration order.
  public var namedParameters: [(name: String, tensor: Tensor)] {
    namedTensors.filter { $0.tensor.requiresGradient }
  }

  /// Running statistics and other non-trainable tensors by name.
  public var namedStates: [(name: String, tensor: Tensor)] {
    namedTensors.filter { !$0.tensor.requiresGradient }
  }

  public var parameters: [Tensor] { namedParameters.map(\.tensor) }

  /// Number of trainable scalars.
  public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.tensor.count } }

  /// Every tensor of this module and its descendants, by dotted name.
  public var namedTensors: [(name: String, tensor: Tensor)] {
    var result: [(name: String, tensor: Tensor)] = []
    collect(prefix: "", into: &result)
    return result
  }

  private func collect(prefix: String, into result: inout [(name: String, tensor: Tensor)]) {
    for (label, value) in storedProperties {
      Module.collect(value, name: prefix + label, into: &result)
    }
  }

  /// Tensors directly, modules recursively, arrays (of arrays) element by element.
  private static func collect(
    _ value: Any, name: String, into result: inout [(name: String, tensor: Tensor)]
  ) {
    if let tensor = value as? Tensor {
      result.append((name, tensor))
    } else if let module = value as? Module {
      module.collect(prefix: name + ".", into: &result)
    } else if let array = value as? [Any] {
      for (index, element) in array.enumerated() {
        collect(element, name: "\(name).\(index)", into: &result)
      }
    }
  }

  private func forEachModule(_ body: (Module) -> Void) {
    body(self)
    for (_, value) in storedProperties { Module.forEachModule(in: value, body) }
  }

  private static func forEachModule(in value: Any, _ body: (Module) -> Void) {
    if let module = value as? Module {
      module.forEachModule(body)
    } else if let array = value as? [Any] {
      for element in array { forEachModule(in: element, body) }
    }
  }

  /// Labelled stored properties of the whole class chain, base classes first.
  private var storedProperties: [(String, Any)] {
    var mirrors: [Mirror] = []
    var mirror: Mirror? = Mirror(reflecting: self)
    while let current = mirror {
      mirrors.append(current)
      mirror = current.superclassMirror
    }
    return mirrors.reversed().flatMap { mirror in
      mirror.children.compactMap { child in child.label.map { ($0, child.value) } }
    }
  }
}

/// A parameter tensor: trainable, with an accumulated gradient.
public func parameter(_ shape: Shape, _ initializer: Initializer, random: inout RandomGenerator)
  -> Tensor
{
  let tensor = Tensor(zeros: shape, requiresGradient: true)
  initializer.fill(tensor, random: &random)
  _ = tensor.liveGradient()
  return tensor
}
