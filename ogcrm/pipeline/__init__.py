"""The import pipeline: sniff, read in bounded chunks, map, clean, stage."""
