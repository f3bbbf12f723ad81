"""The display vocabulary: number formats and glue, labels, plot style, forest and PRISMA figures."""
