package chart

import (
	"image/color"

	"github.com/tailgate-dev/tailgate/results"
)

// RunColours is the one colour assignment of a run report's charts: every
// chart draws a series (the whole run, a request name) in the colour it
// has here, so a reader who learns "offset is vermillion" from the
// spectrum reads the bars, the by-tag chart and the timeline alike.
type RunColours struct {
	total color.Color
	names map[string]color.Color
	// flows are the colours of the flow series (flows.png), after the
	// request names' in the palette: a flow and the requests its steps
	// send are different series.
	flows map[string]color.Color
}

// NewRunColours assigns the colours of res's series: the whole run takes
// Black, request names the palette in the result's order (Black left
// out). A run of one request name is one series, drawn in Black
// everywhere.
func NewRunColours(res *results.Result) RunColours {
	c := RunColours{total: Black, names: map[string]color.Color{}, flows: map[string]color.Color{}}
	k := 0
	next := func() color.Color {
		for Palette[k%len(Palette)] == Black {
			k++
		}
		k++
		return Palette[(k-1)%len(Palette)]
	}
	if len(res.Requests) == 1 {
		c.names[res.Requests[0].Name] = Black
	} else {
		for _, st := range res.Requests {
			if _, ok := c.names[st.Name]; !ok {
				c.names[st.Name] = next()
			}
		}
	}
	for _, st := range res.Flows {
		if _, ok := c.flows[st.Name]; !ok {
			c.flows[st.Name] = next()
		}
	}
	return c
}

// Flow returns the colour of the flow named name (Black for a flow the
// result does not hold).
func (c RunColours) Flow(name string) color.Color {
	if col, ok := c.flows[name]; ok {
		return col
	}
	return Black
}

// Total returns the colour of the whole run.
func (c RunColours) Total() color.Color { return c.total }

// Of returns the colour of a request name ("" the whole run); a name the
// result does not hold gets the whole run's.
func (c RunColours) Of(name string) color.Color {
	if col, ok := c.names[name]; ok && name != "" {
		return col
	}
	return c.total
}
