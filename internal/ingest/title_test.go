package ingest

import "testing"

func TestMetadataTitle(t *testing.T) {
	tests := []struct{ title, name, want string }{
		{"Annual Report 2024", "report.pdf", "Annual Report 2024"},
		{"  Annual\n Report ", "report.pdf", "Annual Report"},
		{"", "report.pdf", ""},
		{"Untitled", "report.pdf", ""},
		{"untitled document", "report.pdf", ""},
		{"Untitled-3", "report.pdf", ""},
		{"Document1", "report.docx", ""},
		{"Presentation 2", "report.pdf", ""},
		{"PowerPoint Presentation", "report.pdf", ""},
		{"Microsoft Word - q3 final.docx", "report.pdf", ""},
		{"Microsoft Word - Budget Plan", "report.pdf", "Budget Plan"},
		{"MICROSOFT WORD - Budget Plan", "report.pdf", "Budget Plan"},
		{"Microsoft Word - ", "report.pdf", ""},
		{"slides.pptx", "report.pdf", ""},
		{`C:\Users\ann\Desktop\draft.doc`, "report.pdf", ""},
		{"main.dvi", "main.pdf", ""},
		{"report", "report.pdf", ""},
		{"Q3_Report", "q3-report.pdf", ""},
		{"Q3 Report", "annual.pdf", "Q3 Report"},
		{"Version 2.1", "report.pdf", "Version 2.1"},
		{"Input/Output Basics", "io.pdf", "Input/Output Basics"},
		{"12345", "report.pdf", ""},
		{"---", "report.pdf", ""},
		{"Über uns", "report.pdf", "Über uns"},
		{"日本語の文書", "report.pdf", "日本語の文書"},
	}
	for _, tt := range tests {
		if got := metadataTitle(tt.title, tt.name); got != tt.want {
			t.Errorf("metadataTitle(%q, %q) = %q, want %q", tt.title, tt.name, got, tt.want)
		}
	}
}
