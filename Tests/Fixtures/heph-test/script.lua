-- Run by controls_test.lua with sim.run: returns its arguments and its arg[0]'s name.
return table.concat({ ... }, " "), arg[0]:match("[^/]*$")
