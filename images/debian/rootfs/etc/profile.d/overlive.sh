# overlive: persist (the init gives the live system one) is on PATH
case ":$PATH:" in *:/run/live/bin:*) ;; *) PATH=$PATH:/run/live/bin ;; esac
