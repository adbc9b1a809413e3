package bench

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/recorder"
)

func plotReport() *Report {
	l := func(c int, tp, p50, p99 float64) Load {
		return Load{Concurrency: c, Throughput: tp, Latency: Latency{P50: p50, P99: p99}}
	}
	return &Report{Collection: "scifact",
		SearchLoad:        []Load{l(1, 1424, 0.68, 2.31), l(4, 2000, 1.9, 11.06), l(16, 2404, 6.5, 17.79)},
		SearchFetchLoad:   []Load{l(1, 913, 1.1, 3.17), l(4, 1361, 2.9, 11.78), l(16, 1482, 10.2, 34.95)},
		ConstantFetchLoad: []Load{l(1, 1033, 0.95, 3.70), l(4, 1695, 2.3, 10.64), l(16, 1678, 9.4, 36.49)},
	}
}

func labelled(ticks []plot.Tick) (values []float64, labels []string) {
	for _, t := range ticks {
		if !t.IsMinor() {
			values, labels = append(values, t.Value), append(labels, t.Label)
		}
	}
	return values, labels
}

// TestPlotAxes: the x axis marks exactly the measured concurrencies, and
// the y axes are labelled with plain numbers up to a mark at or above the
// highest value.
func TestPlotAxes(t *testing.T) {
	f, err := plotReport().figure()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		p    *plot.Plot
		max  float64
	}{{"throughput", f.throughput, 2404}, {"latency", f.latency, 36.49}} {
		x := tc.p.X.Tick.Marker.Ticks(tc.p.X.Min, tc.p.X.Max)
		if _, labels := labelled(x); strings.Join(labels, ",") != "1,4,16" || len(x) != 3 {
			t.Errorf("%s: x ticks %v, want exactly 1, 4, 16", tc.name, x)
		}
		if tc.p.X.Min >= 1 || tc.p.X.Max <= 16 {
			t.Errorf("%s: x axis [%g, %g] does not leave room around 1 and 16", tc.name, tc.p.X.Min, tc.p.X.Max)
		}
		values, labels := labelled(tc.p.Y.Tick.Marker.Ticks(tc.p.Y.Min, tc.p.Y.Max))
		if len(labels) < 4 || values[0] != 0 || values[len(values)-1] < tc.max {
			t.Errorf("%s: y ticks %v, want 0 to at least %g in four or more marks", tc.name, labels, tc.max)
		}
		for i, l := range labels {
			if l != strconv.FormatFloat(values[i], 'f', -1, 64) {
				t.Errorf("%s: y tick %g labelled %q, want a plain number", tc.name, values[i], l)
			}
		}
	}
}

func TestReadableTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   string
	}{
		{0, 3000, "0,500,1000,1500,2000,2500,3000"},
		{0, 40, "0,10,20,30,40"},
		{0, 1, "0,0.2,0.4,0.6,0.8,1"},
		{0, 0.05, "0,0.01,0.02,0.03,0.04,0.05"},
		{0, 0, "0"},
	} {
		_, labels := labelled(readableTicks{}.Ticks(tc.lo, tc.hi))
		if got := strings.Join(labels, ","); got != tc.want {
			t.Errorf("Ticks(%g, %g) = %s, want %s", tc.lo, tc.hi, got, tc.want)
		}
	}
	for hi, want := range map[float64]float64{2404: 2500, 36.49: 40, 0: 1, 0.7: 0.7, 17.79: 20} {
		if got := niceCeil(hi); got != want {
			t.Errorf("niceCeil(%g) = %g, want %g", hi, got, want)
		}
	}
}

// TestPlotLegendsOutside: the legends are drawn below the plots, not on
// them, so that they cover no line.
func TestPlotLegendsOutside(t *testing.T) {
	f, err := plotReport().figure()
	if err != nil {
		t.Fatal(err)
	}
	c := draw.NewCanvas(new(recorder.Canvas), 2*plotWidth, plotHeight+legendHeight)
	plots, legends := f.draw(c)
	for i, p := range []*plot.Plot{f.throughput, f.latency} {
		if r := p.Legend.Rectangle(plots[i]); r.Max.Y != r.Min.Y {
			t.Errorf("plot %d has a legend of its own inside it: %v", i, r)
		}
		if legends[i].Max.Y > plots[i].Min.Y || legends[i].Min.Y < c.Min.Y {
			t.Errorf("legend %d at %v overlaps plot %v or leaves the figure %v", i, legends[i].Rectangle, plots[i].Rectangle, c.Rectangle)
		}
	}
	var svg bytes.Buffer
	if err := plotReport().WritePlot(&svg); err != nil || !strings.Contains(svg.String(), "concurrent clients (log scale)") {
		t.Errorf("WritePlot: %v %.80s", err, svg.String())
	}
}
