package web

import (
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/kopilka/kopilka"
)

// Maps of stores are drawn on the server as SVG: map tiles (the address
// pattern is configuration, -map-tiles, such as
// https://tile.openstreetmap.org/{z}/{x}/{y}.png) laid out at the zoom
// that shows every store, with a marker per store. No script and no
// inline style (the Content-Security-Policy allows neither), and without
// tiles the page still lists the stores.

// mapView is a map ready to draw: W×H pixels of tiles and markers.
type mapView struct {
	W, H    int
	Tiles   []mapTile
	Markers []mapMarker
	// Source is the tiles' host, for the attribution line.
	Source string
}

type mapTile struct {
	URL  string
	X, Y int
}

type mapMarker struct {
	X, Y       int
	Label, URL string
}

const tileSize = 256

// worldPixel is a point's place on the Web Mercator world map at zoom z, in
// pixels (EPSG:3857, as every slippy-map tile server cuts it).
func worldPixel(lat, lon float64, z int) (float64, float64) {
	lat = math.Max(-85.0511, math.Min(85.0511, lat))
	scale := tileSize * math.Exp2(float64(z))
	x := (lon + 180) / 360 * scale
	s := math.Sin(lat * math.Pi / 180)
	y := (0.5 - math.Log((1+s)/(1-s))/(4*math.Pi)) * scale
	return x, y
}

// storeMap lays out the stores that have coordinates on a map of at most
// 768×448 pixels, at the highest zoom (up to 16) that holds them all; nil
// when no tile address is configured or no store has a place.
func storeMap(tiles string, stores []kopilka.Store) *mapView {
	if tiles == "" {
		return nil
	}
	var placed []kopilka.Store
	for _, st := range stores {
		if st.Lat != nil && st.Lon != nil {
			placed = append(placed, st)
		}
	}
	if len(placed) == 0 {
		return nil
	}
	const W, H, margin = 768, 448, 32
	z := 16
	var minX, minY, maxX, maxY float64
	for ; z >= 1; z-- {
		minX, minY, maxX, maxY = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
		for _, st := range placed {
			x, y := worldPixel(*st.Lat, *st.Lon, z)
			minX, minY, maxX, maxY = math.Min(minX, x), math.Min(minY, y), math.Max(maxX, x), math.Max(maxY, y)
		}
		if maxX-minX <= W-2*margin && maxY-minY <= H-2*margin {
			break
		}
	}
	ox, oy := math.Floor((minX+maxX)/2-W/2), math.Floor((minY+maxY)/2-H/2)
	m := &mapView{W: W, H: H}
	if u, err := url.Parse(tiles); err == nil {
		m.Source = u.Host
	}
	n := 1 << z
	for ty := int(math.Floor(oy / tileSize)); float64(ty*tileSize) < oy+H; ty++ {
		for tx := int(math.Floor(ox / tileSize)); float64(tx*tileSize) < ox+W; tx++ {
			if ty < 0 || ty >= n {
				continue
			}
			wx := ((tx % n) + n) % n
			u := strings.NewReplacer("{z}", strconv.Itoa(z), "{x}", strconv.Itoa(wx), "{y}", strconv.Itoa(ty)).Replace(tiles)
			m.Tiles = append(m.Tiles, mapTile{URL: u, X: tx*tileSize - int(ox), Y: ty*tileSize - int(oy)})
		}
	}
	for _, st := range placed {
		x, y := worldPixel(*st.Lat, *st.Lon, z)
		m.Markers = append(m.Markers, mapMarker{X: int(x - ox), Y: int(y - oy), Label: st.Name, URL: "/office/stores/" + url.PathEscape(st.ID)})
	}
	return m
}

// tileOrigin is the scheme and host of the tile address, for the
// Content-Security-Policy's img-src ("" when there is none).
func tileOrigin(tiles string) string {
	u, err := url.Parse(tiles)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
