# Plots surge runs over time (benches/run_surge.sh). Usage:
#   gnuplot -e "files='direct.csv haproxy.csv tidegate.csv'; out='surge.png'; capacity_rps=100" plot.gp
# Each CSV is written by shoppers.py --csv; the set-up's name is the file's
# base name. Four panels sharing the time axis: waiting-room queue length,
# admissions per second, p99 latency of admitted shoppers' requests, and
# origin errors (5xx) and checkouts per second.
if (!exists("files")) files = "direct.csv haproxy.csv tidegate.csv"
if (!exists("out")) out = "surge.png"
if (!exists("capacity_rps")) capacity_rps = 0

set terminal pngcairo size 1200,1400 font "sans,10" noenhanced
set output out
set datafile separator ","
set key top right
set grid
set xlabel "seconds since the first arrival"

name(f) = system("basename ".f." .csv")

set multiplot layout 4,1 title sprintf("Surge simulation (shop capacity %d req/s)", capacity_rps)

set title "Shoppers waiting in the queue (tidegate room) and shoppers inside the shop"
set ylabel "shoppers"
plot for [f in files] f using 1:3 skip 1 with lines lw 2 title name(f)." queued", \
     for [f in files] f using 1:4 skip 1 with lines dt 2 title name(f)." inside"

set title "Admissions per second (shoppers who reached a shop page for the first time)"
set ylabel "shoppers/s"
plot for [f in files] f using 1:5 skip 1 with lines lw 2 title name(f)

set title "p99 latency of admitted shoppers' requests (per second, log scale)"
set ylabel "ms"
set logscale y
plot for [f in files] f using 1:10 skip 1 with lines lw 2 title name(f)." p99", \
     for [f in files] f using 1:11 skip 1 with lines dt 3 title name(f)." shop's own wait p99"
unset logscale y

set title "Origin errors (5xx) and completed checkouts per second"
set ylabel "per second"
plot for [f in files] f using 1:7 skip 1 with lines lw 2 title name(f)." 5xx", \
     for [f in files] f using 1:12 skip 1 with lines dt 2 title name(f)." checkouts"

unset multiplot
