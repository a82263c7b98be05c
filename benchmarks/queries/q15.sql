-- TPC-H Q15: top supplier (DATE = 1996-01-01); the specification's view is a CTE here.
WITH revenue0 AS (
    SELECT
        suppkey AS supplier_no,
        sum(extendedprice * (1 - discount)) AS total_revenue
    FROM lineitem
    WHERE shipdate >= DATE '1996-01-01'
        AND shipdate < DATE '1996-01-01' + INTERVAL '3' MONTH
    GROUP BY suppkey
)
SELECT
    s.suppkey,
    s.name,
    s.address,
    s.phone,
    r.total_revenue
FROM supplier s, revenue0 r
WHERE s.suppkey = r.supplier_no
    AND r.total_revenue = (SELECT max(total_revenue) FROM revenue0)
ORDER BY s.suppkey
