import Foundation

/// A point on the sphere in degrees of longitude and latitude (EPSG:4326, longitude first).
/// Kriging measures distances between such points as great-circle arcs in degrees, as
/// pykrige does with `coordinates_type="geographic"`, so that a range means the same
/// distance at every latitude.
public struct GeographicPoint: Codable, Equatable, Sendable {
  public var longitude: Double
  public var latitude: Double

  public init(longitude: Double, latitude: Double) {
    self.longitude = longitude
    self.latitude = latitude
  }

  /// The point on the unit sphere: nearest by chord is nearest by arc, so a k-d tree over
  /// these finds the nearest sites (pykrige searches its cKDTree the same way).
  var unitVector: SIMD3<Double> {
    let (lambda, phi) = (longitude * .pi / 180, latitude * .pi / 180)
    return SIMD3(cos(lambda) * cos(phi), sin(lambda) * cos(phi), sin(phi))
  }

  /// The angle between two unit vectors in degrees, from atan2(|a × b|, a · b): accurate
  /// at every distance, unlike acos of the dot product near zero.
  @inline(__always)
  static func arcDegrees(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> Double {
    let cross = SIMD3(
      a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
    return atan2(sqrt((cross * cross).sum()), (a * b).sum()) * 180 / .pi
  }
}
