package coalition

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
)

// Limits of a nearby search.
const (
	MaxNearbyRadius = 100_000 // metres
	MaxNearbyLimit  = 100
	// MaxNearbyCandidates bounds the stores read from one box.
	MaxNearbyCandidates = 20_000
)

const earthRadius = 6_371_008.8

// NearbyQuery asks for the stores within RadiusM metres of a point.
type NearbyQuery struct {
	Lat, Lon float64
	RadiusM  int
	Category string // "": any
	OpenNow  bool
	Limit    int
	// PartnerID limits the search to one partner's stores ("": all).
	PartnerID string
}

// NearbyStore is a store with its distance from the point asked about.
type NearbyStore struct {
	kopilka.Store
	DistanceM int64 `json:"distance_m"`
	OpenNow   bool  `json:"open_now"`
}

// Distance is the great-circle (haversine) distance in metres.
func Distance(lat1, lon1, lat2, lon2 float64) float64 {
	rad := math.Pi / 180
	dlat, dlon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * earthRadius * math.Asin(math.Min(1, math.Sqrt(a)))
}

// boxes are the boxes that hold every point within r metres of (lat, lon):
// two when the range of longitudes crosses the antimeridian, one reaching
// every longitude near a pole.
func boxes(lat, lon, r float64) []kopilka.Box {
	dlat := r / earthRadius * 180 / math.Pi
	minLat, maxLat := lat-dlat, lat+dlat
	if minLat <= -90 || maxLat >= 90 {
		return []kopilka.Box{{MinLat: max(minLat, -90), MaxLat: min(maxLat, 90), MinLon: -180, MaxLon: 180}}
	}
	// The widest longitude span is at the box's latitude farthest from the equator.
	far := max(math.Abs(minLat), math.Abs(maxLat)) * math.Pi / 180
	dlon := math.Asin(math.Min(1, math.Sin(r/earthRadius)/math.Cos(far))) * 180 / math.Pi
	if dlon >= 180 || math.IsNaN(dlon) {
		return []kopilka.Box{{MinLat: minLat, MaxLat: maxLat, MinLon: -180, MaxLon: 180}}
	}
	minLon, maxLon := lon-dlon, lon+dlon
	switch {
	case minLon < -180:
		return []kopilka.Box{{MinLat: minLat, MaxLat: maxLat, MinLon: minLon + 360, MaxLon: 180}, {MinLat: minLat, MaxLat: maxLat, MinLon: -180, MaxLon: maxLon}}
	case maxLon > 180:
		return []kopilka.Box{{MinLat: minLat, MaxLat: maxLat, MinLon: minLon, MaxLon: 180}, {MinLat: minLat, MaxLat: maxLat, MinLon: -180, MaxLon: maxLon - 360}}
	}
	return []kopilka.Box{{MinLat: minLat, MaxLat: maxLat, MinLon: minLon, MaxLon: maxLon}}
}

func (q *NearbyQuery) validate() error {
	var pr kopilka.Problems
	if !(q.Lat >= -90 && q.Lat <= 90) {
		pr.Add("lat", "must be from -90 to 90")
	}
	if !(q.Lon >= -180 && q.Lon <= 180) {
		pr.Add("lon", "must be from -180 to 180")
	}
	if q.RadiusM == 0 {
		q.RadiusM = 5000
	}
	if q.RadiusM < 1 || q.RadiusM > MaxNearbyRadius {
		pr.Add("radius_m", "must be from 1 to 100000")
	}
	if q.Limit == 0 {
		q.Limit = 20
	}
	if q.Limit < 1 || q.Limit > MaxNearbyLimit {
		pr.Add("limit", "must be from 1 to 100")
	}
	if q.Category != "" {
		kopilka.CheckID(&pr, "category", q.Category, false)
	}
	return pr.Err()
}

// Nearby lists the open stores within the radius, nearest first, with
// their distance; with OpenNow, only those open by their hours now.
//
// A principal of one partner finds only that partner's stores.
func (s *Service) Nearby(ctx context.Context, q NearbyQuery) ([]NearbyStore, error) {
	if err := access.Allow(ctx, access.StoresNearby); err != nil {
		return nil, err
	}
	if p := kopilka.PrincipalFrom(ctx); p.Scoped() {
		q.PartnerID = p.PartnerID
	}
	if err := q.validate(); err != nil {
		return nil, err
	}
	now := s.Env.Time()
	found := []NearbyStore{}
	err := s.DB.View(ctx, func(tx Tx) error {
		for _, b := range boxes(q.Lat, q.Lon, float64(q.RadiusM)) {
			os, err := tx.StoresIn(ctx, b, q.PartnerID, MaxNearbyCandidates)
			if err != nil {
				return err
			}
			if len(os) == MaxNearbyCandidates { // some were left unread: the nearest may be among them
				return kopilka.Invalid("radius_m", fmt.Sprintf("more than %d stores lie around this point: ask for a smaller radius", MaxNearbyCandidates))
			}
			for _, o := range os {
				if o.Lat == nil || o.Lon == nil {
					continue
				}
				d := Distance(q.Lat, q.Lon, *o.Lat, *o.Lon)
				if d > float64(q.RadiusM) || q.Category != "" && len(o.Categories) > 0 && !slices.Contains(o.Categories, q.Category) {
					continue
				}
				open := o.OpenAt(now)
				if q.OpenNow && !open {
					continue
				}
				found = append(found, NearbyStore{Store: o, DistanceM: int64(math.Round(d)), OpenNow: open})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(found, func(i, j int) bool {
		if found[i].DistanceM != found[j].DistanceM {
			return found[i].DistanceM < found[j].DistanceM
		}
		return found[i].ID < found[j].ID
	})
	if len(found) > q.Limit {
		found = found[:q.Limit]
	}
	return found, nil
}
