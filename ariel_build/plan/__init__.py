"""Where every tensor lives (memory plan) and, later, which core runs what (schedule)."""
