package bench

import (
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// WritePlot draws throughput and p99 latency against concurrency, for
// search, search+fetch, and search+fetch over the constant store, as SVG.
func (r *Report) WritePlot(w io.Writer) error {
	series := []struct {
		name  string
		loads []Load
		color color.Color
	}{
		{"search", r.SearchLoad, color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}},
		{"search+fetch", r.SearchFetchLoad, color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}},
		{"search+fetch, constant store", r.ConstantFetchLoad, color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}},
	}
	throughput := plot.New()
	throughput.Title.Text = fmt.Sprintf("%s: throughput", r.Collection)
	throughput.X.Label.Text = "concurrent clients"
	throughput.Y.Label.Text = "calls per second"
	latency := plot.New()
	latency.Title.Text = fmt.Sprintf("%s: latency percentiles", r.Collection)
	latency.X.Label.Text = "concurrent clients"
	latency.Y.Label.Text = "milliseconds"
	for _, s := range series {
		tp, p50, p99 := plotter.XYs{}, plotter.XYs{}, plotter.XYs{}
		for _, l := range s.loads {
			c := float64(l.Concurrency)
			tp = append(tp, plotter.XY{X: c, Y: l.Throughput})
			p50 = append(p50, plotter.XY{X: c, Y: l.P50})
			p99 = append(p99, plotter.XY{X: c, Y: l.P99})
		}
		if err := addLine(throughput, s.name, tp, s.color, false); err != nil {
			return err
		}
		if err := addLine(latency, s.name+" p50", p50, s.color, false); err != nil {
			return err
		}
		if err := addLine(latency, s.name+" p99", p99, s.color, true); err != nil {
			return err
		}
	}
	for _, p := range []*plot.Plot{throughput, latency} {
		p.Legend.Top = true
		p.Legend.Left = true
		p.Y.Min = 0
		p.Add(plotter.NewGrid())
	}
	const width, height = 8 * vg.Inch, 4.5 * vg.Inch
	canvas := vgsvg.New(2*width, height)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 4}
	plots := [][]*plot.Plot{{throughput, latency}}
	canvases := plot.Align(plots, tiles, draw.New(canvas))
	throughput.Draw(canvases[0][0])
	latency.Draw(canvases[0][1])
	_, err := canvas.WriteTo(w)
	return err
}

func addLine(p *plot.Plot, name string, xys plotter.XYs, c color.Color, dashed bool) error {
	line, points, err := plotter.NewLinePoints(xys)
	if err != nil {
		return err
	}
	line.Color = c
	points.Color = c
	line.Width = vg.Points(1.5)
	if dashed {
		line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	p.Add(line, points)
	p.Legend.Add(name, line, points)
	return nil
}
