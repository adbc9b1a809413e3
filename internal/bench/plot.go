package bench

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// The figure's size: two plots side by side above a strip for the legends,
// which sit outside the plots so that they never cover a line.
const (
	plotWidth    = 8 * vg.Inch
	plotHeight   = 4.5 * vg.Inch
	legendHeight = 0.75 * vg.Inch
)

var dashes = []vg.Length{vg.Points(5), vg.Points(3)}

// figure is the plot WritePlot draws: throughput and latency against
// concurrency, a legend of the series (by colour) and one of the latency
// percentiles (by line style).
type figure struct {
	throughput, latency *plot.Plot
	series, styles      plot.Legend
}

// WritePlot draws throughput and p50/p99 latency against concurrency, for
// search, search+fetch, search+fetch over the constant store, and over the
// TypeScript MiniSearch baseline when it ran, as SVG.
func (r *Report) WritePlot(w io.Writer) error {
	f, err := r.figure()
	if err != nil {
		return err
	}
	canvas := vgsvg.New(2*plotWidth, plotHeight+legendHeight)
	f.draw(draw.New(canvas))
	_, err = canvas.WriteTo(w)
	return err
}

func (r *Report) figure() (*figure, error) {
	series := []struct {
		name  string
		loads []Load
		color color.Color
	}{
		{"search", r.SearchLoad, color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}},
		{"search+fetch", r.SearchFetchLoad, color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}},
		{"search+fetch, constant store", r.ConstantFetchLoad, color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}},
		{"search+fetch, TypeScript MiniSearch", r.MiniSearchFetchLoad, color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}},
	}
	f := &figure{throughput: plot.New(), latency: plot.New(), series: plot.NewLegend(), styles: plot.NewLegend()}
	f.throughput.Title.Text = fmt.Sprintf("%s: throughput", r.Collection)
	f.throughput.Y.Label.Text = "calls per second"
	f.latency.Title.Text = fmt.Sprintf("%s: latency percentiles", r.Collection)
	f.latency.Y.Label.Text = "milliseconds"
	var concurrencies []int
	for _, s := range series {
		if len(s.loads) == 0 {
			continue // the baseline, when it did not run
		}
		tp, p50, p99 := plotter.XYs{}, plotter.XYs{}, plotter.XYs{}
		for _, l := range s.loads {
			c := float64(l.Concurrency)
			tp = append(tp, plotter.XY{X: c, Y: l.Throughput})
			p50 = append(p50, plotter.XY{X: c, Y: l.P50})
			p99 = append(p99, plotter.XY{X: c, Y: l.P99})
			concurrencies = append(concurrencies, l.Concurrency)
		}
		line, err := addLine(f.throughput, tp, s.color, nil)
		if err != nil {
			return nil, err
		}
		if _, err := addLine(f.latency, p50, s.color, nil); err != nil {
			return nil, err
		}
		if _, err := addLine(f.latency, p99, s.color, dashes); err != nil {
			return nil, err
		}
		f.series.Add(s.name, line)
	}
	for _, style := range []struct {
		name   string
		dashes []vg.Length
	}{{"p50", nil}, {"p99", dashes}} {
		line, err := plotter.NewLine(plotter.XYs{})
		if err != nil {
			return nil, err
		}
		line.Width = vg.Points(1.5)
		line.Dashes = style.dashes
		f.styles.Add(style.name, line)
	}
	slices.Sort(concurrencies)
	concurrencies = slices.Compact(concurrencies)
	for _, p := range []*plot.Plot{f.throughput, f.latency} {
		setConcurrencyAxis(&p.X, concurrencies)
		p.Y.Min = 0
		p.Y.Max = niceCeil(p.Y.Max)
		p.Y.Tick.Marker = readableTicks{}
		p.Add(plotter.NewGrid())
	}
	for _, l := range []*plot.Legend{&f.series, &f.styles} {
		l.Top = true
		l.Left = true
		l.ThumbnailWidth = vg.Points(30)
		l.Padding = vg.Points(3)
	}
	return f, nil
}

// draw lays the figure out on c: the two plots side by side, and below them
// the series legend under the throughput plot and the percentile legend
// under the latency plot. It returns where the plots and legends went.
func (f *figure) draw(c draw.Canvas) (plots [2]draw.Canvas, legends [2]draw.Canvas) {
	top := draw.Crop(c, 0, 0, legendHeight, -vg.Points(6)) // room above the titles
	bottom := draw.Crop(c, 0, 0, 0, legendHeight-(c.Max.Y-c.Min.Y))
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 4, PadBottom: vg.Millimeter * 2}
	aligned := plot.Align([][]*plot.Plot{{f.throughput, f.latency}}, tiles, top)
	for i, p := range []*plot.Plot{f.throughput, f.latency} {
		plots[i] = aligned[0][i]
		p.Draw(plots[i])
		legends[i] = bottom
		legends[i].Min.X, legends[i].Max.X = plots[i].Min.X, plots[i].Max.X
	}
	// Indent the legends to the plots' data area, past the y axis.
	indent := plots[0].Max.X - plots[0].Min.X - (f.throughput.DataCanvas(plots[0]).Max.X - f.throughput.DataCanvas(plots[0]).Min.X)
	for i, l := range []*plot.Legend{&f.series, &f.styles} {
		legends[i].Min.X += indent
		l.Draw(legends[i])
	}
	return plots, legends
}

// setConcurrencyAxis makes a an axis of the measured concurrencies: a log
// scale (1, 4 and 16 are evenly spaced) marked at exactly those values.
func setConcurrencyAxis(a *plot.Axis, concurrencies []int) {
	a.Label.Text = "concurrent clients"
	if len(concurrencies) == 0 {
		return
	}
	a.Label.Text = "concurrent clients (log scale)"
	ticks := make(plot.ConstantTicks, len(concurrencies))
	for i, c := range concurrencies {
		ticks[i] = plot.Tick{Value: float64(c), Label: strconv.Itoa(c)}
	}
	a.Scale = plot.LogScale{}
	a.Tick.Marker = ticks
	// Leave room for the markers at both ends.
	a.Min = float64(concurrencies[0]) / 1.3
	a.Max = float64(concurrencies[len(concurrencies)-1]) * 1.3
}

// readableTicks marks a linear axis every 1, 2 or 5 times a power of ten,
// about five marks in all, each labelled as a plain number ("2500", "0.5").
type readableTicks struct{}

func (readableTicks) Ticks(lo, hi float64) []plot.Tick {
	step := niceStep(hi - lo)
	var ticks []plot.Tick
	for i := math.Ceil(lo / step); i*step <= hi+step*1e-9; i++ {
		v := roundToStep(i*step, step)
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return ticks
}

// roundToStep drops the float noise of a multiple of step (0.30000000000000004).
func roundToStep(v, step float64) float64 {
	scale := math.Pow10(max(0, -int(math.Floor(math.Log10(step)))))
	return math.Round(v*scale) / scale
}

// niceStep is 1, 2 or 5 times a power of ten, so that span holds about five
// steps.
func niceStep(span float64) float64 {
	if span <= 0 || math.IsNaN(span) || math.IsInf(span, 0) {
		return 1
	}
	raw := span / 5
	mag := math.Pow10(int(math.Floor(math.Log10(raw))))
	switch norm := raw / mag; {
	case norm < 1.5:
		return mag
	case norm < 3.5:
		return 2 * mag
	case norm < 7.5:
		return 5 * mag
	default:
		return 10 * mag
	}
}

// niceCeil rounds an axis maximum up to a whole step, so that the top of the
// axis is labelled.
func niceCeil(hi float64) float64 {
	if hi <= 0 || math.IsNaN(hi) || math.IsInf(hi, 0) {
		return 1
	}
	step := niceStep(hi)
	return roundToStep(math.Ceil(hi/step)*step, step)
}

func addLine(p *plot.Plot, xys plotter.XYs, c color.Color, dashes []vg.Length) (*plotter.Line, error) {
	line, points, err := plotter.NewLinePoints(xys)
	if err != nil {
		return nil, err
	}
	line.Color = c
	points.Color = c
	line.Width = vg.Points(1.5)
	line.Dashes = dashes
	p.Add(line, points)
	return line, nil
}
