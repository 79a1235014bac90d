package fabrica_engine_internal

results.zz := 1
