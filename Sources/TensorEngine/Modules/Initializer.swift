/// How a parameter's first values are drawn.
public enum Initializer: Sendable {
  case zeros
  case ones
  /// U(−l, l), l = √(6 / (fan_in + fan_out)) (Glorot & Bengio; Keras' default).
  case glorotUniform
  /// N(0, 2 / fan_in) (He et al.), for ReLU networks.
  case heNormal

  /// Fans of a weight: [in, out] for dense layers, [KH, KW, in, out] for convolutions.
  static func fans(_ shape: Shape) -> (fanIn: Int, fanOut: Int) {
    switch shape.rank {
    case 0: return (1, 1)
    case 1: return (shape[0], shape[0])
    default:
      let receptive = shape.count / (shape[shape.rank - 2] * shape[shape.rank - 1])
      return (receptive * shape[shape.rank - 2], receptive * shape[shape.rank - 1])
    }
  }

  public func fill(_ tensor: Tensor, random: inout RandomGenerator) {
    let (fanIn, fanOut) = Initializer.fans(tensor.shape)
    switch self {
    case .zeros: tensor.fill(0)
    case .ones: tensor.fill(1)
    case .glorotUniform:
      let limit = (6 / Float(fanIn + fanOut)).squareRoot()
      for index in 0..<tensor.count { tensor[index] = (2 * random.nextUniform() - 1) * limit }
    case .heNormal:
      let deviation = (2 / Float(fanIn)).squareRoot()
      for index in 0..<tensor.count { tensor[index] = random.nextNormal() * deviation }
    }
  }
}
