package kopilka_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/coalition"
	"github.com/kopilka/kopilka/storage"
	"github.com/kopilka/kopilka/storage/storagetest"
)

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		name                   string
		lat1, lon1, lat2, lon2 float64
		want                   float64 // metres
	}{
		{"Moscow Red Square to St Petersburg Palace Square", 55.7539, 37.6208, 59.9390, 30.3158, 634_400},
		{"one degree of latitude", 0, 0, 1, 0, 111_195},
		{"across the antimeridian", 0, 179.9, 0, -179.9, 22_239},
		{"the same point", 55.75, 37.62, 55.75, 37.62, 0},
	} {
		got := coalition.Distance(c.lat1, c.lon1, c.lat2, c.lon2)
		if math.Abs(got-c.want) > c.want*0.002+1 {
			t.Errorf("%s: %.0f m, want %.0f m", c.name, got, c.want)
		}
	}
}

// storeAt is a store to place.
type storeAt struct {
	id, partner string
	lat, lon    float64
	closed      bool
}

// placeStores writes stores in one transaction per thousand.
func placeStores(t testing.TB, ctx context.Context, s *storage.DB, stores []storeAt) {
	t.Helper()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < len(stores); i += 1000 {
		err := s.Update(ctx, func(tx *storage.Tx) error {
			for _, st := range stores[i:min(i+1000, len(stores))] {
				lat, lon := st.lat, st.lon
				o := kopilka.Store{ID: st.id, PartnerID: st.partner, Name: st.id, Lat: &lat, Lon: &lon, TimeZone: "UTC",
					Hours: []kopilka.OpeningHours{}, Status: kopilka.StoreOpen, CreatedAt: now, UpdatedAt: now}
				if st.closed {
					o.Status = kopilka.StoreClosed
				}
				if err := tx.PutStore(ctx, o); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestNearby_MatchesAFullScan places stores in a city, across the
// antimeridian and near the pole, and checks every answer against the
// distance to every store.
func TestNearby_MatchesAFullScan(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, testProgramme(nil))
		if _, err := e.svc.Coalition.PutPartner(e.ctx, kopilka.Partner{ID: "fuel", Name: "Fuel", Categories: []string{"fuel"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Coalition.PutPartner(e.ctx, kopilka.Partner{ID: "gone", Name: "Gone", Status: kopilka.PartnerSuspended}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Coalition.PutPartner(e.ctx, kopilka.Partner{ID: "main", Name: "Main", Categories: []string{"food"}}); err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		centres := [][2]float64{{55.7558, 37.6173}, {0.5, 179.95}, {-16.5, -179.9}, {89.95, 10}, {-89.9, 0}}
		var stores []storeAt
		for i := range 800 {
			c := centres[i%len(centres)]
			lat := math.Max(-90, math.Min(90, c[0]+rng.NormFloat64()*0.05))
			lon := c[1] + rng.NormFloat64()*0.08
			if lon > 180 {
				lon -= 360
			} else if lon < -180 {
				lon += 360
			}
			partner := []string{"main", "fuel", "gone"}[rng.IntN(3)]
			stores = append(stores, storeAt{fmt.Sprintf("st-%d", i), partner, lat, lon, rng.IntN(10) == 0})
		}
		placeStores(t, e.ctx, e.svc.DB, stores)
		checked, nonEmpty := 0, 0
		for _, c := range centres {
			for range 12 {
				q := coalition.NearbyQuery{Lat: math.Max(-90, math.Min(90, c[0]+rng.NormFloat64()*0.03)), Lon: c[1] + rng.NormFloat64()*0.04,
					RadiusM: 500 + rng.IntN(15000), Limit: 100}
				if q.Lon > 180 {
					q.Lon -= 360
				}
				if rng.IntN(3) == 0 {
					q.Category = "fuel"
				}
				got, err := e.svc.Coalition.Nearby(e.ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				type hit struct {
					id string
					d  float64
				}
				var hits []hit
				for _, s := range stores {
					d := coalition.Distance(q.Lat, q.Lon, s.lat, s.lon)
					if s.closed || s.partner == "gone" || d > float64(q.RadiusM) || q.Category == "fuel" && s.partner != "fuel" {
						continue
					}
					hits = append(hits, hit{s.id, d})
				}
				sort.Slice(hits, func(i, j int) bool { return hits[i].d < hits[j].d })
				for _, h := range hits[:min(len(hits), q.Limit)] {
					want = append(want, h.id)
				}
				var gotIDs []string
				for i, g := range got {
					gotIDs = append(gotIDs, g.ID)
					if i > 0 && g.DistanceM < got[i-1].DistanceM {
						t.Errorf("%+v: not ordered by distance at %d", q, i)
					}
				}
				// Ties in whole metres may order either way: compare as sets, and the distances.
				slices.Sort(gotIDs)
				slices.Sort(want)
				if !slices.Equal(gotIDs, want) {
					t.Errorf("%+v:\ngot  %v\nwant %v", q, gotIDs, want)
				}
				checked++
				if len(want) > 0 {
					nonEmpty++
				}
			}
		}
		if nonEmpty < checked/2 {
			t.Errorf("only %d of %d queries found stores; the test needs more hits", nonEmpty, checked)
		}
		t.Logf("%d queries, %d with stores", checked, nonEmpty)
	})
}

func TestNearby_OpenNowAndValidation(t *testing.T) {
	e := newEnv(t, "sqlite", testProgramme(nil))
	lat, lon := 55.75, 37.62
	// Open 09:00–21:00 Moscow; the clock is Sunday 12:00 Moscow, and the store opens on weekdays only.
	if _, err := e.svc.Coalition.PutStore(e.ctx, kopilka.Store{ID: "weekdays", PartnerID: "main", Name: "W", Lat: &lat, Lon: &lon, TimeZone: "Europe/Moscow",
		Hours: []kopilka.OpeningHours{{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "09:00", To: "21:00"}}}); err != nil {
		t.Fatal(err)
	}
	lat2 := 55.751
	if _, err := e.svc.Coalition.PutStore(e.ctx, kopilka.Store{ID: "always", PartnerID: "main", Name: "A", Lat: &lat2, Lon: &lon}); err != nil {
		t.Fatal(err)
	}
	all, err := e.svc.Coalition.Nearby(e.ctx, coalition.NearbyQuery{Lat: lat, Lon: lon, RadiusM: 1000})
	if err != nil || len(all) != 2 || all[0].ID != "weekdays" || all[0].OpenNow || all[1].DistanceM != 111 || !all[1].OpenNow {
		t.Fatalf("nearby: %+v %v", all, err)
	}
	open, err := e.svc.Coalition.Nearby(e.ctx, coalition.NearbyQuery{Lat: lat, Lon: lon, RadiusM: 1000, OpenNow: true})
	if err != nil || len(open) != 1 || open[0].ID != "always" {
		t.Fatalf("open now: %+v %v", open, err)
	}
	for _, c := range []struct {
		q     coalition.NearbyQuery
		field string
	}{
		{coalition.NearbyQuery{Lat: 91, Lon: 0}, "lat"},
		{coalition.NearbyQuery{Lat: 0, Lon: -181}, "lon"},
		{coalition.NearbyQuery{Lat: 0, Lon: 0, RadiusM: 100_001}, "radius_m"},
		{coalition.NearbyQuery{Lat: 0, Lon: 0, Limit: 101}, "limit"},
		{coalition.NearbyQuery{Lat: math.NaN(), Lon: 0}, "lat"},
	} {
		_, err := e.svc.Coalition.Nearby(e.ctx, c.q)
		wantCode(t, err, kopilka.EINVALID, c.field)
	}
}

// BenchmarkNearby searches 100,000 stores: 60 cities of stores spread
// around their centres, and a thousand scattered over the country.
// Each query asks for the 20 nearest within 2 km of a point in a city.
//
//	go test -run XXX -bench BenchmarkNearby -benchtime 3s .
//
// With KOPILKA_TEST_DATABASE_URL set it runs on PostgreSQL too.
func BenchmarkNearby(b *testing.B) {
	const n = 100_000
	rng := rand.New(rand.NewPCG(3, 4))
	var cities [][2]float64
	for range 60 {
		cities = append(cities, [2]float64{45 + rng.Float64()*15, 30 + rng.Float64()*100})
	}
	stores := make([]storeAt, n)
	for i := range stores {
		var lat, lon float64
		if i%100 == 0 {
			lat, lon = 42+rng.Float64()*25, 28+rng.Float64()*110
		} else {
			c := cities[i%len(cities)]
			lat, lon = c[0]+rng.NormFloat64()*0.1, c[1]+rng.NormFloat64()*0.15
		}
		stores[i] = storeAt{id: fmt.Sprintf("bs-%06d", i), partner: "main", lat: lat, lon: lon}
	}
	query := func(i int) coalition.NearbyQuery {
		c := cities[i%len(cities)]
		return coalition.NearbyQuery{Lat: c[0] + rng.NormFloat64()*0.05, Lon: c[1] + rng.NormFloat64()*0.07, RadiusM: 2000, Limit: 20}
	}
	for _, dialect := range storagetest.Dialects() {
		b.Run(dialect, func(b *testing.B) {
			e := newEnv(b, dialect, testProgramme(nil))
			start := time.Now()
			placeStores(b, e.ctx, e.svc.DB, stores)
			b.Logf("%s: placed %d stores in %s", dialect, n, time.Since(start).Round(time.Millisecond))
			// The search as it is: a box on the (lat, lon) index, then exact distances.
			b.Run("box", func(b *testing.B) {
				var found int
				for i := 0; i < b.N; i++ {
					got, err := e.svc.Coalition.Nearby(e.ctx, query(i))
					if err != nil {
						b.Fatal(err)
					}
					found += len(got)
				}
				b.ReportMetric(float64(found)/float64(b.N), "stores/query")
			})
			// The reference: every store read and measured, as without the box.
			b.Run("full-scan", func(b *testing.B) {
				world := kopilka.Box{MinLat: -90, MaxLat: 90, MinLon: -180, MaxLon: 180}
				var found int
				for i := 0; i < b.N; i++ {
					q := query(i)
					err := e.svc.DB.View(e.ctx, func(tx *storage.Tx) error {
						all, err := tx.StoresIn(e.ctx, world, "", 2*n)
						for _, o := range all {
							if coalition.Distance(q.Lat, q.Lon, *o.Lat, *o.Lon) <= float64(q.RadiusM) {
								found++
							}
						}
						return err
					})
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(found)/float64(b.N), "stores/query")
			})
		})
	}
}
