/// Sixteen Float32 lanes: the width of one AVX-512 register, two AVX2 registers.
typealias Lanes = SIMD16<Float>

extension UnsafePointer where Pointee == Float {
  @inline(__always)
  func lanes(at offset: Int) -> Lanes {
    UnsafeRawPointer(self + offset).loadUnaligned(as: Lanes.self)
  }
}

extension UnsafeMutablePointer where Pointee == Float {
  @inline(__always)
  func lanes(at offset: Int) -> Lanes {
    UnsafeRawPointer(self + offset).loadUnaligned(as: Lanes.self)
  }

  @inline(__always)
  func store(_ value: Lanes, at offset: Int) {
    UnsafeMutableRawPointer(self + offset).storeBytes(of: value, as: Lanes.self)
  }
}

/// eˣ on sixteen lanes: eˣ = 2ⁿ·eʳ with n the integer nearest x·log₂e and r = x − n·ln 2
/// (ln 2 in two parts, Cody–Waite, so r keeps its precision) in [−½ ln 2, ½ ln 2]; eʳ from
/// its degree-6 Taylor polynomial (truncation error 1.2e-7). n is rounded by adding
/// 1.5·2²³, which leaves it in the low mantissa bits, and 2ⁿ is built in the exponent
/// bits; both stay in vector registers (Swift's `rounded` and float-to-int conversions on
/// SIMD types fall back to one libm call per lane). For x up to 88; arguments below −87
/// give 2⁻¹²⁶ or less, 0 for every use here.
@inline(__always)
func exp(_ x: Lanes) -> Lanes {
  var clamped = x.replacing(with: -87.3, where: x .< -87.3)
  clamped = clamped.replacing(with: 88, where: clamped .> 88)
  let shifted = clamped * 1.442_695_04 + Lanes(repeating: 12_582_912)
  let n = shifted - Lanes(repeating: 12_582_912)
  let r = clamped - n * 0.693_145_751_953_125 - n * 1.428_606_765_330_187e-6
  var p = Lanes(repeating: 1.0 / 720)
  p = p * r + 1.0 / 120
  p = p * r + 1.0 / 24
  p = p * r + 1.0 / 6
  p = p * r + 0.5
  p = p * r + 1
  p = p * r + 1
  let integer = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000
  return p * unsafeBitCast((integer &+ 127) &<< 23, to: Lanes.self)
}
