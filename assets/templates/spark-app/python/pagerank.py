"""PageRank over an edge list: the "{{name}}" Spark app.

Reads lines "<page> <neighbour>" from PAGERANK_INPUT, runs PAGERANK_ITERATIONS rounds of
PageRank (damping 0.85), prints the ranks and writes them as CSV (page,rank) to
PAGERANK_OUTPUT, which may be a local path or s3a://bucket/prefix on the object store.
"""
import os
import re
import sys
from operator import add

from pyspark.sql import SparkSession

DAMPING = 0.85


def contributions(neighbours, rank):
    """Split a page's rank evenly among the pages it links to."""
    neighbours = list(neighbours)
    for page in neighbours:
        yield page, rank / len(neighbours)


def parse_edge(line):
    parts = re.split(r"\s+", line.strip())
    return parts[0], parts[1]


def pagerank(spark, input_path, iterations):
    lines = spark.read.text(input_path).rdd.map(lambda row: row[0]).filter(lambda line: line.strip())
    links = lines.map(parse_edge).distinct().groupByKey().cache()
    ranks = links.map(lambda page_neighbours: (page_neighbours[0], 1.0))
    for _ in range(iterations):
        contribs = links.join(ranks).flatMap(lambda item: contributions(item[1][0], item[1][1]))
        ranks = contribs.reduceByKey(add).mapValues(lambda rank: rank * DAMPING + (1 - DAMPING))
    return sorted(ranks.collect(), key=lambda page_rank: (-page_rank[1], page_rank[0]))


def main():
    input_path = os.environ.get("PAGERANK_INPUT", "/app/data/pagerank_data.txt")
    iterations = int(os.environ.get("PAGERANK_ITERATIONS", "10"))
    output = os.environ.get("PAGERANK_OUTPUT")
    spark = SparkSession.builder.appName("{{name}}").getOrCreate()
    try:
        ranks = pagerank(spark, input_path, iterations)
        for page, rank in ranks:
            print(f"{page} has rank: {rank:.6f}.")
        if output:
            frame = spark.createDataFrame(ranks, ["page", "rank"])
            frame.coalesce(1).write.mode("overwrite").option("header", True).csv(output)
            print(f"ranks written to {output}")
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
