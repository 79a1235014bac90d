# METADATA
# title: The flag must not be set
package fabrica.custom.flag

violation if input.flag == true
