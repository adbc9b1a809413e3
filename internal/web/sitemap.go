package web

import (
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// Sitemaps are read by hand with encoding/xml: the format is two elements
// deep, and a library would add nothing but a dependency.

// Limits on sitemaps, so that a broken or hostile site cannot make a crawl
// read without end.
const (
	maxSitemapDepth = 4   // sitemap indexes within sitemap indexes
	maxSitemaps     = 200 // sitemap files read in one crawl
)

// sitemap is a sitemap file: a urlset of pages or a sitemapindex of
// further sitemaps. Elements match in any namespace.
type sitemap struct {
	XMLName xml.Name
	URLs    []struct {
		Loc string `xml:"loc"`
	} `xml:"url"`
	Sitemaps []struct {
		Loc string `xml:"loc"`
	} `xml:"sitemap"`
}

// parseSitemap reads a sitemap file, gzip-compressed or not, and returns
// the page URLs it lists and the sitemaps it points to.
func parseSitemap(data []byte, max int64) (pages, sitemaps []string, err error) {
	if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, nil, fmt.Errorf("not a readable gzip file: %v", err)
		}
		data, err = io.ReadAll(io.LimitReader(zr, max+1))
		if err != nil {
			return nil, nil, fmt.Errorf("not a readable gzip file: %v", err)
		}
		if int64(len(data)) > max {
			return nil, nil, fmt.Errorf("uncompressed, over the limit of %d bytes (MAX_FILE_BYTES)", max)
		}
	}
	var sm sitemap
	if err := xml.Unmarshal(data, &sm); err != nil {
		return nil, nil, fmt.Errorf("not a sitemap (%v)", err)
	}
	switch sm.XMLName.Local {
	case "urlset", "sitemapindex":
	default:
		return nil, nil, fmt.Errorf("not a sitemap (root element <%s>, want <urlset> or <sitemapindex>)", sm.XMLName.Local)
	}
	for _, u := range sm.URLs {
		if loc := strings.TrimSpace(u.Loc); loc != "" {
			pages = append(pages, loc)
		}
	}
	for _, s := range sm.Sitemaps {
		if loc := strings.TrimSpace(s.Loc); loc != "" {
			sitemaps = append(sitemaps, loc)
		}
	}
	return pages, sitemaps, nil
}
