"""Archives: one ZIP out (build), one ZIP in (restore), and the workbook and charts inside."""
