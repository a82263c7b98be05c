-- TPC-H Q6: forecasting revenue change (DATE = 1994-01-01, DISCOUNT = 0.06, QUANTITY = 24).
-- The discount bounds 0.06 - 0.01 and 0.06 + 0.01 are written out so that no dialect
-- evaluates them in binary floating point.
SELECT
    sum(extendedprice * discount) AS revenue
FROM lineitem
WHERE shipdate >= DATE '1994-01-01'
    AND shipdate < DATE '1994-01-01' + INTERVAL '1' YEAR
    AND discount BETWEEN 0.05 AND 0.07
    AND quantity < 24
